"""A TCP proxy in front of a real server that can stall.

`StallingProxy` passes bytes both ways between its clients and the server
until `stall()` (or until `after` more bytes of the server's have passed): from
then on the connections stay open and the client's bytes still reach the
server, but nothing more of the server's reaches the client, as when a server
or the network between hangs in the middle of a response without closing
anything.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class StallingProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = self._listener.getsockname()[:2]
        self._stalled = threading.Event()
        self._budget: int | None = None
        """Bytes of the server's still to pass on once a stall is asked for."""
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="stall-proxy", daemon=True).start()

    def stall(self, after: int = 0) -> None:
        with self._lock:
            self._budget = after
        if not after:
            self._stalled.set()

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()

    def __enter__(self) -> StallingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            with self._lock:
                self._sockets += [client, server]
            for source, target, stallable in ((client, server, False), (server, client, True)):
                threading.Thread(
                    target=self._pump, args=(source, target, stallable), daemon=True
                ).start()

    def _pump(self, source: socket.socket, target: socket.socket, stallable: bool) -> None:
        with contextlib.suppress(OSError):
            while True:
                data = source.recv(65536)
                if not data:
                    return
                if stallable:
                    data = self._within_budget(data)
                target.sendall(data)
                if stallable and self._stalled.is_set():
                    self._closed.wait()
                    return

    def _within_budget(self, data: bytes) -> bytes:
        """What of `data` may still pass; sets the stall when the budget runs out."""
        with self._lock:
            if self._budget is None:
                return data
            data = data[: self._budget]
            self._budget -= len(data)
            if not self._budget:
                self._stalled.set()
            return data
