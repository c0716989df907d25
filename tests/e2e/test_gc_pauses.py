"""The daemon freezes what start-up left before it serves (`daemon/gc_pauses.py`).

Its ~110,000 start-up objects were walked by every full garbage collection,
which ran every few seconds under read load and held the event loop 45-150 ms
(the p99 outliers of 1-2 ms reads). Checked here is the mechanism, never a time:
the daemon says it froze them, and a frozen heap still collects new cycles.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path

from loggbok.daemon.gc_pauses import settle_after_start
from loggbok.protocol import methods as m
from tests.conftest import DaemonProcess


async def test_the_daemon_freezes_its_start_up_objects_before_serving(workdir: Path) -> None:
    data = workdir / "data"
    data.mkdir()
    daemon = DaemonProcess(workdir / "d.sock", data)
    daemon.start()
    try:
        client = await daemon.client()
        await client.call(m.HELLO)
        await client.close()
        lines = [json.loads(x) for x in (data / "loggbokd.log").read_text().splitlines()]
    finally:
        daemon.stop()
    frozen = [x["message"] for x in lines if x["logger"] == "loggbok.daemon.gc_pauses"]
    assert len(frozen) == 1, frozen
    count = int(frozen[0].split(": ")[1].split()[0])
    assert count > 10_000  # the modules, classes and registry of a started daemon
    listening = next(i for i, x in enumerate(lines) if "listening on" in x["message"])
    assert lines.index(next(x for x in lines if x["logger"] == "loggbok.daemon.gc_pauses")) < (
        listening
    )


def test_after_freezing_new_cycles_are_still_collected() -> None:
    class Node:
        other: object = None

    try:
        assert settle_after_start() == gc.get_freeze_count() > 0
        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
        assert gc.collect() >= 2
    finally:
        gc.unfreeze()
