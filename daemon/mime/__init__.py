"""MIME: header-first parsing, subject normalisation, whole-message parsing.

`facts.HeaderFacts` is what the rules decide from (headers only, cheap);
`facts.ParsedMessage` is what gets stored for logged mail (body, attachments).
Both survive malformed input: errors are recorded, never raised.
"""
