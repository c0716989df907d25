"""The loggbok wire contract: JSON-RPC 2.0 over a Unix socket, one message per line.

This package owns every method name, every typed params/result struct, the
notification types, the error codes, the line framing and an asyncio client.
It imports nothing from `loggbok.daemon` or `loggbok.tui`; both depend on it.
"""

from loggbok.protocol.version import PROTOCOL_VERSION

__all__ = ["PROTOCOL_VERSION"]
