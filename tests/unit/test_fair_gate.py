"""`FairGate` hands the reader's turns round-robin between callers: one with a
single read waits behind at most one read of a caller that queued hundreds,
and a cancelled waiter neither keeps its place nor loses a turn it was given."""

from __future__ import annotations

import asyncio

from loggbok.daemon.store.fair import FairGate, caller


async def _use(gate: FairGate, key: str, order: list[str], release: asyncio.Event) -> None:
    caller.set(key)
    async with gate.turn():
        order.append(key)
        await release.wait()


async def test_turns_go_round_robin_between_callers() -> None:
    gate = FairGate(width=1)
    order: list[str] = []
    go = asyncio.Event()
    go.set()
    hold = asyncio.Event()
    first = asyncio.create_task(_use(gate, "busy", order, hold))
    await asyncio.sleep(0)
    busy = [asyncio.create_task(_use(gate, "busy", order, go)) for _ in range(100)]
    await asyncio.sleep(0)
    other = [asyncio.create_task(_use(gate, "other", order, go)) for _ in range(2)]
    third = asyncio.create_task(_use(gate, "third", order, go))
    await asyncio.sleep(0)
    assert gate.waiting == 103
    hold.set()
    await asyncio.gather(first, *busy, *other, third)
    assert order[:7] == ["busy", "busy", "other", "third", "busy", "other", "busy"]
    assert gate.waiting == 0


async def test_a_cancelled_waiter_gives_up_its_place_and_never_a_turn() -> None:
    gate = FairGate(width=1)
    order: list[str] = []
    hold, go = asyncio.Event(), asyncio.Event()
    go.set()
    holder = asyncio.create_task(_use(gate, "a", order, hold))
    await asyncio.sleep(0)
    gone = asyncio.create_task(_use(gate, "b", order, go))
    after = asyncio.create_task(_use(gate, "c", order, go))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    assert gate.waiting == 1
    hold.set()
    await asyncio.gather(holder, after)
    assert order == ["a", "c"]
    # granted and cancelled in the same step: the turn is passed on, not lost
    hold2 = asyncio.Event()
    holder = asyncio.create_task(_use(gate, "a", order, hold2))
    await asyncio.sleep(0)
    granted = asyncio.create_task(_use(gate, "b", order, go))
    last = asyncio.create_task(_use(gate, "c", order, go))
    await asyncio.sleep(0)
    hold2.set()
    await asyncio.sleep(0)  # the holder leaves and grants "b" its turn ...
    granted.cancel()  # ... which is cancelled before it runs
    await asyncio.wait_for(last, 5)
    assert order[-1] == "c" and "b" not in order
