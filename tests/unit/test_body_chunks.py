"""Logged messages' bodies are fetched and parsed in chunks bounded by count and
by the raw size the headers gave, so a run of large messages never sits in
memory together (twice: the fetched bytes and the parse worker's copy)."""

from __future__ import annotations

from loggbok.daemon.sync.engine import BODY_BATCH, BODY_BYTES, Pending, body_chunks

MB = 1024 * 1024


def _pending(*sizes: int) -> list[Pending]:
    return [Pending(n, 1, str(n), None, size) for n, size in enumerate(sizes)]


def _shape(chunks: list[list[Pending]]) -> list[list[int]]:
    return [[p.message_id for p in chunk] for chunk in chunks]


def test_small_messages_go_by_count() -> None:
    chunks = body_chunks(_pending(*[40_000] * (2 * BODY_BATCH + 1)))
    assert [len(c) for c in chunks] == [BODY_BATCH, BODY_BATCH, 1]


def test_large_messages_go_by_size_and_a_huge_one_alone() -> None:
    assert BODY_BYTES == 64 * MB
    sizes = (30 * MB, 30 * MB, 30 * MB, 200 * MB, 1 * MB, 0, 63 * MB, 1)
    # 1 + 0 + 63 MB is exactly the limit: it fits; one byte more does not
    assert _shape(body_chunks(_pending(*sizes))) == [[0, 1], [2], [3], [4, 5, 6], [7]]


def test_unknown_sizes_count_as_small_and_nothing_is_lost() -> None:
    pending = _pending(*[0] * 7)
    assert _shape(body_chunks(pending)) == [[0, 1, 2, 3, 4, 5, 6]]
    assert body_chunks([]) == []
