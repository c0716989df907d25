"""Writing what the user saves (headers, attachments) to files, off the event loop."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path


def safe_name(name: str, fallback: str = "file") -> str:
    """A file name without path separators or control characters."""
    cleaned = re.sub(r"[\x00-\x1f/\\:]+", "_", name).strip(" .")
    return cleaned[:200] or fallback


def default_path(name: str) -> Path:
    return Path.cwd() / safe_name(name)


async def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` (~ expanded, parent folders created); returns the path."""

    def _write() -> Path:
        target = Path(path).expanduser()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target

    return await asyncio.to_thread(_write)
