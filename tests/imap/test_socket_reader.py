"""`SocketReader` on a real socket pair: literals arrive whole, and the size a
server announces is not trusted with memory it has not sent."""

from __future__ import annotations

import socket
import threading
import tracemalloc
from collections.abc import Iterator

import pytest

from loggbok.daemon.sync.providers.imap import connection
from loggbok.daemon.sync.providers.imap.connection import SocketReader


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    ours.settimeout(10)
    try:
        yield ours, theirs
    finally:
        ours.close()
        theirs.close()


def _send_and_close(sock: socket.socket, data: bytes) -> threading.Thread:
    def run() -> None:
        sock.sendall(data)
        sock.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_literal_larger_than_the_set_aside_arrives_whole(
    pair: tuple[socket.socket, socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connection, "_SET_ASIDE", 1000)
    ours, theirs = pair
    payload = bytes(range(256)) * 4000  # 1,024,000 bytes: the buffer doubles ten times
    sender = _send_and_close(theirs, b"* 1 FETCH {1024000}\r\n" + payload + b")\r\n")
    reader = SocketReader(ours)
    assert reader.readline() == b"* 1 FETCH {1024000}\r\n"
    assert reader.read(len(payload)) == payload
    assert reader.readline() == b")\r\n"
    sender.join()


def test_an_announced_size_the_server_never_sends_costs_no_memory(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, theirs = pair
    sender = _send_and_close(theirs, b"x" * 1000)
    reader = SocketReader(ours)
    tracemalloc.start()
    try:
        got = reader.read(900_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    sender.join()
    assert got == b"x" * 1000
    assert peak < 100_000_000  # the 64 MiB set aside, not 900 MB
