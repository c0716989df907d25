"""File names as shown and saved, and writing what the user saves (headers,
attachments) to files, off the event loop.

`shown_name` and `safe_name` drop control and bidirectional control characters.
`PieceFile` writes a large file as it arrives, piece by piece, into a temp file
beside the target, renamed over it only once whole; an interrupted save leaves
no half file under the name the user gave.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
from pathlib import Path
from typing import BinaryIO

_INVISIBLE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
"""DEL, C1 controls, line and paragraph separators and the bidirectional controls
(LRM/RLM/ALM, embeddings, overrides, isolates): an override in "report\u202efdp.exe"
shows as "reportexe.pdf". The daemon removes them too; a client does not rely on it."""


def shown_name(name: str) -> str:
    """A file name as it may be shown: without control or bidirectional control
    characters (C0 controls become "_")."""
    return re.sub(r"[\x00-\x1f]", "_", _INVISIBLE.sub("", name))


def safe_name(name: str, fallback: str = "file") -> str:
    """A file name to save under: `shown_name`, without path separators."""
    cleaned = re.sub(r"[\x00-\x1f/\\:]+", "_", _INVISIBLE.sub("", name)).strip(" .")
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


class PieceFile:
    """A file written piece by piece: `open`, `write`s, then `commit` (or `abort`)."""

    def __init__(self, path: str | Path) -> None:
        self.target = Path(path).expanduser()
        self._temp: Path | None = None
        self._file: BinaryIO | None = None

    async def open(self) -> None:
        def _open() -> None:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            # A fresh name, created with the usual mode (0666 less the umask).
            temp = self.target.with_name(f".{self.target.name}.{secrets.token_hex(4)}.part")
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            self._temp = temp
            self._file = os.fdopen(fd, "wb")

        await asyncio.to_thread(_open)

    async def write(self, data: bytes) -> None:
        assert self._file is not None, "open() first"
        await asyncio.to_thread(self._file.write, data)

    async def commit(self) -> Path:
        """Flush, close and rename the temp file to the target; returns the target."""

        def _commit() -> None:
            assert self._file is not None and self._temp is not None, "open() first"
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._temp, self.target)
            self._temp = self._file = None

        await asyncio.to_thread(_commit)
        return self.target

    def abort(self) -> None:
        """Close and remove the temp file (quick: safe to call from `finally`)."""
        if self._file is not None:
            self._file.close()
        if self._temp is not None:
            with contextlib.suppress(OSError):
                self._temp.unlink()
        self._temp = self._file = None
