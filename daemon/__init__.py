"""The loggbok daemon: sync, MIME, rules, store and the JSON-RPC server.

Never imports Textual or `loggbok.tui`; a test enforces it.
"""

__version__ = "0.1.0"
