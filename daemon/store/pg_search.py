"""The search box's query language (SQLite FTS5's) rendered as a PostgreSQL tsquery.

`messages.search` takes FTS5 query syntax on both stores: barewords and
"quoted phrases" (all words, in order), `*` after a word for a prefix, implicit
AND, `AND`/`OR`/`NOT` (upper case; NOT binds tightest, then AND, then OR),
parentheses, a column filter `subject:`, `participants:`, `body:` (or
`{subject body}:`, `-subject:` for all but) and `NEAR(a b)` (read as all of its
phrases). Words are split as FTS5's unicode61 tokenizer splits them (letters
and digits; anything else separates), lower-cased and without diacritics (the
`loggbok` text search configuration's `unaccent`).

On PostgreSQL the three columns are one `tsvector` with weights A (subject),
B (participants), C (body); a column filter becomes those weights. A query the
grammar refuses raises `QuerySyntaxError`, as FTS5 does with a syntax error.
"""

from __future__ import annotations

import re

COLUMNS = {"subject": "A", "participants": "B", "body": "C"}
_BAREWORD = re.compile(r"[\w\x80-\U0010ffff\x1a]+")
_TOKEN = re.compile(r"[^\W_]+")


class QuerySyntaxError(ValueError):
    """Not a query in FTS5's syntax."""


def words(text: str) -> list[str]:
    """The words of `text` as the index keeps them apart (lower case; unaccent later)."""
    return [w.lower() for w in _TOKEN.findall(text)]


def to_tsquery(query: str) -> str:
    """The tsquery text (for `to_tsquery('loggbok', ...)`) equal to FTS5 `query`."""
    parser = _Parser(_lex(query))
    node = parser.or_expr(None)
    if parser.peek() is not None:
        raise QuerySyntaxError(f"fts5: syntax error near {parser.peek()!r}")
    return node or "''"


def _lex(query: str) -> list[str]:
    tokens: list[str] = []
    i = 0
    while i < len(query):
        c = query[i]
        if c.isspace():
            i += 1
        elif c == '"':
            end = i + 1
            text = []
            while True:
                if end >= len(query):
                    raise QuerySyntaxError("fts5: unterminated string")
                if query[end] == '"':
                    if query[end + 1 : end + 2] == '"':
                        text.append('"')
                        end += 2
                        continue
                    break
                text.append(query[end])
                end += 1
            tokens.append('"' + "".join(text))
            i = end + 1
        elif c in "()*:{}^,-+":
            tokens.append(c)
            i += 1
        elif m := _BAREWORD.match(query, i):
            tokens.append(m.group(0))
            i = m.end()
        else:
            raise QuerySyntaxError(f"fts5: syntax error near {c!r}")
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError("fts5: syntax error: the query ends too soon")
        self.pos += 1
        return token

    def or_expr(self, weights: str | None) -> str | None:
        parts = [self.and_expr(weights)]
        while self.peek() == "OR":
            self.take()
            parts.append(self.and_expr(weights))
        present = [p for p in parts if p]
        return _join(present, " | ")

    def and_expr(self, weights: str | None) -> str | None:
        parts = [self.not_expr(weights)]
        while (token := self.peek()) is not None and token not in ("OR", ")"):
            if token == "AND":
                self.take()
            parts.append(self.not_expr(weights))
        return _join([p for p in parts if p], " & ")

    def not_expr(self, weights: str | None) -> str | None:
        node = self.primary(weights)
        while self.peek() == "NOT":
            self.take()
            right = self.primary(weights)
            if right:
                node = f"{node or ''} & !{right}" if node else None
        return node

    def primary(self, weights: str | None) -> str | None:
        token = self.take()
        if token == "(":
            node = self.or_expr(weights)
            if self.take() != ")":
                raise QuerySyntaxError("fts5: syntax error: ( without )")
            return f"( {node} )" if node else None
        if token in ("AND", "OR", "NOT", ")", "*", ":", "}", ",", "^", "+"):
            raise QuerySyntaxError(f"fts5: syntax error near {token!r}")
        if token == "{" or token == "-" or (self.peek() == ":" and not token.startswith('"')):
            return self.primary(self._columns(token))
        if token == "NEAR" and self.peek() == "(":
            self.take()
            phrases = []
            while (inner := self.take()) != ")":
                if inner == ",":
                    self.take()  # the distance
                    continue
                phrases.append(self._phrase(inner, weights))
            return _join([p for p in phrases if p], " & ")
        return self._phrase(token, weights)

    def _columns(self, first: str) -> str:
        negate = first == "-"
        names = []
        if negate:
            first = self.take()
        if first == "{":
            while (name := self.take()) != "}":
                names.append(name)
        else:
            names.append(first)
        if self.take() != ":":
            raise QuerySyntaxError("fts5: syntax error: a column filter needs ':'")
        unknown = [n for n in names if n not in COLUMNS]
        if unknown:
            raise QuerySyntaxError(f"fts5: no such column: {unknown[0]}")
        chosen = {COLUMNS[n] for n in names}
        if negate:
            chosen = set(COLUMNS.values()) - chosen
        return "".join(sorted(chosen))

    def _phrase(self, token: str, weights: str | None) -> str | None:
        text = token[1:] if token.startswith('"') else token
        prefix = False
        if self.peek() == "*":
            self.take()
            prefix = True
        while self.peek() == "+":  # "a" + "b": one phrase
            self.take()
            nxt = self.take()
            text += " " + (nxt[1:] if nxt.startswith('"') else nxt)
        found = words(text)
        if not found:
            return None
        tail = ":" + ("*" if prefix else "") + (weights or "") if prefix or weights else ""
        marks = ":" + weights if weights else ""
        lexemes = [f"{w}{marks}" for w in found[:-1]] + [f"{found[-1]}{tail}"]
        return lexemes[0] if len(lexemes) == 1 else "( " + " <-> ".join(lexemes) + " )"


def _join(parts: list[str], op: str) -> str | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else "( " + op.join(parts) + " )"
