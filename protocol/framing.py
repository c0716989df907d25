"""Line framing: one compact UTF-8 JSON message per line, shared by both ends.

Lines may be as long as `MAX_LINE_BYTES` (64 MiB and a margin) so a large
attachment or batch fits; anything longer is refused with a clear error.
"""

from __future__ import annotations

from typing import Any

import msgspec

MAX_LINE_BYTES = 64 * 1024 * 1024 + 4096
"""The StreamReader limit both ends use."""

_encoder = msgspec.json.Encoder()


def encode(message: Any) -> bytes:
    """One message as a compact JSON line (structs, dicts and lists alike)."""
    return _encoder.encode(message) + b"\n"
