"""`release_after_bulk` hands freed memory back to the system (glibc), measured on
this process: pages freed in the middle of the heap stay resident until then."""

from __future__ import annotations

from pathlib import Path

import pytest

from loggbok.daemon import memory


def _resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(memory._malloc_trim() is None, reason="not glibc")
def test_freed_heap_pages_go_back_after_bulk_work() -> None:
    blocks = [bytes(4000) + i.to_bytes(4, "little") for i in range(60_000)]  # ~240 MB
    kept = blocks[::100]  # one block in a hundred stays: the heap cannot shrink from its top
    del blocks
    before = _resident_mb()
    memory.release_after_bulk(memory.BULK - 1)  # not bulk: nothing happens
    assert _resident_mb() > before - 50
    memory.release_after_bulk(memory.BULK)
    assert _resident_mb() < before - 150
    assert len(kept) == 600
