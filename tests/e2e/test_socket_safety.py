"""Nobody else's socket is trusted, and the daemon listens only where it is safe.

The fallback socket folder (`/tmp/loggbok-<uid>`, without XDG_RUNTIME_DIR) can be
made first by another local user, who would then receive the user's calls,
passwords included. The client refuses a socket whose folder or file is not the
user's own and private, or whose listening process runs as another uid, before it
sends a byte; the daemon refuses such a folder with one line and exit code 1, and
never deletes something that is not a socket.

A foreign owner can only be made by root (`chown`): those parts skip otherwise.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from loggbok.protocol import methods as m
from loggbok.protocol.client import Client
from loggbok.protocol.socket_check import UnsafeSocket
from tests.conftest import DaemonProcess

ROOT = os.getuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="a foreign owner needs root to make")
OTHER_UID = 65534
HANG_GUARD = 30.0


class Listener:
    """A bare listener on `path` that records every byte it receives."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.received = bytearray()
        self.accepted = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            with conn:
                conn.settimeout(1.0)
                try:
                    while chunk := conn.recv(65536):
                        self.received += chunk
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(HANG_GUARD)
        self.sock.close()


async def _refused(path: Path) -> str:
    with pytest.raises(UnsafeSocket) as refused:
        client = await Client.connect(path)
        await client.call(m.HELLO)  # only reached when the check is missing
    return str(refused.value)


async def test_client_refuses_a_folder_open_to_others(workdir: Path) -> None:
    folder = workdir / "open"
    folder.mkdir()
    os.chmod(folder, 0o755)
    listener = Listener(folder / "d.sock")
    try:
        assert "open to other users (mode 0755" in await _refused(listener.path)
        os.chmod(folder, 0o700)  # the same listener, private now: the client talks
        client = await Client.connect(listener.path)
        await client.send_line(b"hello\n")
        await client.close()
    finally:
        listener.close()
    assert bytes(listener.received) == b"hello\n"


@needs_root
async def test_client_refuses_a_folder_or_socket_of_another_user(workdir: Path) -> None:
    folder = workdir / f"loggbok-{os.getuid()}"
    folder.mkdir(mode=0o700)
    listener = Listener(folder / "daemon.sock")
    try:
        os.chown(folder, OTHER_UID, OTHER_UID)
        assert f"belongs to uid {OTHER_UID}" in await _refused(listener.path)
        os.chown(folder, 0, 0)
        os.chown(listener.path, OTHER_UID, OTHER_UID)
        assert f"the socket {listener.path} belongs to uid {OTHER_UID}" in await _refused(
            listener.path
        )
    finally:
        listener.close()
    assert listener.received == b""


FOREIGN_LISTENER = """
import os, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.bind(sys.argv[1])
os.setgid({uid}); os.setuid({uid})  # the listening process is now another user's
sock.listen(1)
print("listening", flush=True)
sock.settimeout(60)
conn, _ = sock.accept()
conn.settimeout(3)
got = b""
try:
    while chunk := conn.recv(65536):
        got += chunk
except OSError:
    pass
print(len(got), flush=True)
"""


@needs_root
async def test_client_refuses_a_listener_of_another_uid(workdir: Path) -> None:
    """The socket file and its folder are ours (made by root before it dropped its
    rights), yet another uid listens: SO_PEERCRED tells, and nothing is sent."""
    path = workdir / "d.sock"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        FOREIGN_LISTENER.format(uid=OTHER_UID),
        str(path),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        ready = await asyncio.wait_for(process.stdout.readline(), HANG_GUARD)
        assert ready.strip() == b"listening"
        message = await _refused(path)
        assert f"the process listening there runs as uid {OTHER_UID}" in message
        received = await asyncio.wait_for(process.stdout.readline(), HANG_GUARD)
        assert received.strip() == b"0"
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


def _loggbokd(
    socket_path: Path | None, data_dir: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    args = ["--data-dir", str(data_dir)]
    if socket_path is not None:
        args = ["--socket", str(socket_path), *args]
    return subprocess.run(
        [sys.executable, "-m", "loggbok.daemon.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **env},
    )


def _one_clear_line(done: subprocess.CompletedProcess[str], expected: str) -> None:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("loggbokd: refusing to listen on"), lines
    assert expected in lines[0]


def test_daemon_refuses_a_named_folder_open_to_others(workdir: Path) -> None:
    folder = workdir / "shared"
    folder.mkdir()
    os.chmod(folder, 0o775)
    done = _loggbokd(folder / "d.sock", workdir / "data")
    _one_clear_line(done, "open to other users (mode 0775")
    assert not (folder / "d.sock").exists()


@needs_root
def test_daemon_refuses_a_fallback_folder_made_by_another_user(workdir: Path) -> None:
    """Without XDG_RUNTIME_DIR the socket goes to `<tmp>/loggbok-<uid>`: made first by
    someone else, the daemon refuses it (it used to chmod it, or crash with a
    PermissionError traceback as a non-root user) and `loggbok call` sends nothing."""
    folder = workdir / f"loggbok-{os.getuid()}"
    folder.mkdir(mode=0o777)
    os.chmod(folder, 0o777)
    os.chown(folder, OTHER_UID, OTHER_UID)
    env = {"TMPDIR": str(workdir), "XDG_RUNTIME_DIR": ""}
    done = _loggbokd(None, workdir / "data", **env)
    _one_clear_line(done, f"belongs to uid {OTHER_UID}")
    assert os.stat(folder).st_mode & 0o777 == 0o777  # left as it was
    listener = Listener(folder / "daemon.sock")
    try:
        call = subprocess.run(
            [sys.executable, "-m", "loggbok.tui.cli", "call", "daemon.hello"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, **env},
        )
    finally:
        listener.close()
    assert call.returncode == 1
    assert f"belongs to uid {OTHER_UID}" in call.stderr
    assert listener.received == b""


def test_daemon_makes_its_own_folder_private(workdir: Path) -> None:
    """A loggbok* folder of the user's own that is open is made 0700, as before."""
    folder = workdir / "loggbok-own"
    folder.mkdir()
    os.chmod(folder, 0o755)
    (workdir / "data").mkdir()
    daemon = DaemonProcess(folder / "d.sock", workdir / "data")
    daemon.start()
    try:
        assert os.stat(folder).st_mode & 0o777 == 0o700
    finally:
        daemon.stop()


@pytest.mark.parametrize("kind", ["regular file", "folder", "fifo"])
def test_socket_option_never_deletes_what_is_not_a_socket(workdir: Path, kind: str) -> None:
    """`--socket` naming an existing file used to delete it and listen in its place."""
    target = workdir / "precious"
    if kind == "regular file":
        target.write_text("keep me\n")
    elif kind == "folder":
        target.mkdir()
        (target / "inside").write_text("keep me too\n")
    else:
        os.mkfifo(target)
    done = _loggbokd(target, workdir / "data")
    _one_clear_line(done, f"{target} is not a socket (left untouched)")
    if kind == "regular file":
        assert target.read_text() == "keep me\n"
    elif kind == "folder":
        assert (target / "inside").read_text() == "keep me too\n"
    else:
        assert target.is_fifo()
