"""Parsing spread over worker processes: header blocks and whole messages.

Parsing is pure-Python CPU (about 0.2 ms per header block, 1–3 ms per whole
message), so large batches go to a process pool sized to the machine's cores
and run beside the network and database work; a handful is parsed on a
thread instead, where starting processes would cost more than it saves.
Workers are started with "spawn" (never fork a process that holds SQLite and
event-loop threads) and die with their daemon, even a SIGKILLed one: each
arms a parent-death signal (Linux `PR_SET_PDEATHSIG`) and checks that its
parent is still the daemon after arming it; elsewhere a thread watches the
parent id (`_follow_parent`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from loggbok.daemon.mime.facts import HeaderFacts
from loggbok.daemon.mime.headers import parse_headers
from loggbok.daemon.store.blobs import BlobStore
from loggbok.daemon.store.bodies import StoredBody
from loggbok.daemon.sync.bodies import build_body

POOL_THRESHOLD = 16
IDLE_SECONDS = 60.0
PARENT_POLL_SECONDS = 1.0
_PR_SET_PDEATHSIG = 1
_pool: ProcessPoolExecutor | None = None
_idle_timer: asyncio.TimerHandle | None = None


def _workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _pool_executor() -> ProcessPoolExecutor:
    """The pool, started on demand; its idle timer restarts with every use."""
    global _pool, _idle_timer
    if _idle_timer is not None:
        _idle_timer.cancel()
    with contextlib.suppress(RuntimeError):  # no running loop: no idle timer
        _idle_timer = asyncio.get_running_loop().call_later(IDLE_SECONDS, _stop_idle)
    if _pool is None:
        _pool = ProcessPoolExecutor(
            _workers(),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_follow_parent,
            initargs=(os.getpid(),),
        )
    return _pool


def _arm_parent_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


def _follow_parent(parent: int) -> None:
    """A worker's initializer: die with the daemon (`parent`), however it ends.

    The signal is armed first, then the parent checked: a daemon that died before
    the signal was armed has already left this worker to another parent.
    """
    armed = _arm_parent_death_signal()
    if os.getppid() != parent:
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


RawMessage = tuple[int, bytes, dict[str, int]]
"""(any int key, raw message, the parts `stream.reduce_message` skipped in it)."""


def _build_chunk(
    items: list[RawMessage],
    blob_root: str,
    attachment_limit: int,
    body_limit: int,
    forwards: frozenset[int] = frozenset(),
) -> list[tuple[int, StoredBody]]:
    with BlobStore(Path(blob_root)).batch() as blobs:
        return [
            (
                key,
                build_body(
                    raw, blobs, attachment_limit, body_limit, skipped, forward=key in forwards
                ),
            )
            for key, raw, skipped in items
        ]


async def build_bodies(
    items: list[RawMessage],
    blobs: BlobStore,
    attachment_limit: int,
    body_limit: int,
    forwards: frozenset[int] = frozenset(),
) -> dict[int, StoredBody]:
    """Parse many raw messages (keyed by any int) off the event loop; the keys in
    `forwards` are forwards to the forwarding address, read for their original (R8)."""
    if not items:
        return {}
    root = str(blobs.root)
    if len(items) < POOL_THRESHOLD:
        done = await asyncio.to_thread(
            _build_chunk, items, root, attachment_limit, body_limit, forwards
        )
        return dict(done)
    loop = asyncio.get_running_loop()
    size = -(-len(items) // (_workers() * 2))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    results = await asyncio.gather(
        *(
            loop.run_in_executor(
                _pool_executor(), _build_chunk, chunk, root, attachment_limit, body_limit, forwards
            )
            for chunk in chunks
        )
    )
    return {key: body for chunk in results for key, body in chunk}


def _ready() -> bool:
    return True


def warm_up() -> None:
    """Start the workers now (they import the parser), so the first sync does not wait."""
    pool = _pool_executor()
    for _ in range(_workers()):
        pool.submit(_ready)


def _parse_blocks(blocks: list[bytes]) -> list[HeaderFacts]:
    return [parse_headers(block) for block in blocks]


async def parse_header_blocks(blocks: list[bytes]) -> list[HeaderFacts]:
    """Header facts for many header blocks, in order, off the event loop."""
    if len(blocks) < POOL_THRESHOLD * 8:
        return await asyncio.to_thread(_parse_blocks, blocks)
    loop = asyncio.get_running_loop()
    size = -(-len(blocks) // _workers())
    parts = await asyncio.gather(
        *(
            loop.run_in_executor(_pool_executor(), _parse_blocks, blocks[i : i + size])
            for i in range(0, len(blocks), size)
        )
    )
    return [facts for part in parts for facts in part]


def _stop_idle() -> None:
    """Let the workers go once their last work is done."""
    global _pool, _idle_timer
    _idle_timer = None
    if _pool is not None:
        _pool.shutdown(wait=False)
        _pool = None


def shutdown() -> None:
    global _pool, _idle_timer
    if _idle_timer is not None:
        _idle_timer.cancel()
        _idle_timer = None
    if _pool is not None:
        # Workers may be mid-start or mid-parse: end them now rather than make the
        # interpreter's exit wait for them (ProcessPoolExecutor has no public kill
        # before Python 3.14's terminate_workers).
        processes = list(getattr(_pool, "_processes", {}).values())
        _pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        _pool = None
