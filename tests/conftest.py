"""Shared fixtures: a real `loggbokd` on a temporary socket and data dir, and a
protocol client connected to it. `tests.support.leftovers` checks that the
session leaves no process of its own behind."""

from __future__ import annotations

import ast
import functools
import inspect
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from loggbok.daemon.store.store import Store
from loggbok.protocol.client import Client

pytest_plugins = [
    "tests.servers.dovecot",
    "tests.servers.graph.server",
    "tests.servers.ews.server",
    "tests.servers.postgres",
    "tests.support.leftovers",
]


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


@dataclass
class DaemonProcess:
    socket: Path
    data_dir: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> None:
        # timeouts here are hang guards only: a loaded CI machine may take a while
        _one_store_guard("starts a daemon")
        command = [
            sys.executable,
            "-m",
            "loggbok.daemon.main",
            "--socket",
            str(self.socket),
            "--data-dir",
            str(self.data_dir),
            *self.args,
        ]
        self.process = subprocess.Popen(
            command,
            # No DNS lookups (R14) unless a test points the daemon at its own server; the
            # config file is the test's own (none unless it writes one), never the user's.
            env={
                "LOGGBOK_DNS_SERVER": "none",
                **os.environ,
                "XDG_CONFIG_HOME": str(self.data_dir.parent / "config"),
                **self.env,
            },
            stdout=subprocess.DEVNULL,
            stderr=open(self.data_dir.parent / "daemon.stderr", "ab"),  # noqa: SIM115
        )
        deadline = time.monotonic() + timeout
        while not _answers(self.socket):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"loggbokd exited with {self.process.returncode}: "
                    + (self.data_dir.parent / "daemon.stderr").read_text()
                )
            if time.monotonic() > deadline:
                raise TimeoutError("loggbokd did not create its socket")
            time.sleep(0.02)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout)
        self.process = None
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    async def client(self) -> Client:
        return await Client.connect(self.socket)


STORES = [s for s in os.environ.get("LOGGBOK_TEST_STORES", "sqlite,postgres").split(",") if s]
"""The stores the tests that open one run on (`LOGGBOK_TEST_STORES=sqlite` for one)."""

_TESTS = Path(__file__).parent
_OPENERS = ("Store.open", "DaemonProcess")
"""What opens a store in the test process or starts a daemon on one."""


def _shared(path: Path) -> bool:
    """A module of helpers and fixtures other modules use (not a module of tests)."""
    return not path.name.startswith("test_")


@functools.cache
def _store_starters() -> dict[Path, frozenset[str]]:
    """Per module under tests/ (tests/tui apart): the names of functions (helpers,
    fixtures, tests) that open a store or start a daemon, directly or through another
    such function, found by reading the source to a fixed point. A module sees its own
    functions, those it imports from another module of tests/ (`from tests.unit.x
    import _helper`), and the public ones of the shared modules (conftest,
    tests/support, tests/servers, tests/backends/harnesses: every module not named
    test_*)."""
    functions: dict[Path, list[tuple[str, str]]] = {}
    imports: dict[Path, list[tuple[Path, str, str]]] = {}  # (from module, name, as)
    for path in _TESTS.rglob("*.py"):
        if "tui" in path.relative_to(_TESTS).parts:
            continue
        source = path.read_text()
        nodes = list(ast.walk(ast.parse(source)))
        functions[path] = [
            (node.name, ast.get_source_segment(source, node) or "")
            for node in nodes
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        imports[path] = [
            (_TESTS.parent.joinpath(*node.module.split(".")).with_suffix(".py"), alias.name,
             alias.asname or alias.name)
            for node in nodes
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests.")
            for alias in node.names
        ]  # fmt: skip
    shared: set[str] = set()
    own: dict[Path, set[str]] = {path: set() for path in functions}
    while True:
        grew = False
        for path, defined in functions.items():
            for origin, name, alias in imports[path]:
                if name in own.get(origin, ()) and alias not in own[path]:
                    own[path].add(alias)
                    grew = True
            pattern = _calls(frozenset(shared | own[path]))
            for name, body in defined:
                if name not in own[path] and pattern.search(body):
                    own[path].add(name)
                    grew = True
                    if _shared(path) and not name.startswith("_"):
                        shared.add(name)
        if not grew:
            return {path: frozenset(shared | names) for path, names in own.items()}


@functools.cache
def _calls(names: frozenset[str]) -> re.Pattern[str]:
    """A call (bare, or as an attribute) of one of `names` or of an opener."""
    alternatives = "|".join(re.escape(n) for n in sorted({*names, *_OPENERS}))
    return re.compile(rf"\b(?:{alternatives})\(")


def _opens_store(metafunc: pytest.Metafunc) -> bool:
    """Whether a test runs on every store. It does when it opens a store or starts a
    daemon: through a fixture (one in its fixture closure is a store starter, see
    `_store_starters`: `daemon`, `client`, ...), or by calling `Store.open`,
    `DaemonProcess` or a helper that does (`synced_daemon`, `graph_daemon`, ...) in its
    own body, or when it names `store_backend` among its parameters (a test that
    starts `loggbokd` as a plain subprocess). Not: tests marked `sqlite_only` (each
    says why on its marker: it reads or breaks the SQLite file itself), and tests/tui
    (protocol clients: what they show does not depend on the store). `store_backend`
    fails an undoubled test that opens a store anyway (`_one_store_guard`)."""
    if metafunc.definition.get_closest_marker("sqlite_only"):
        return False
    if "tui" in Path(str(metafunc.definition.fspath)).relative_to(_TESTS).parts:
        return False  # the TUI is a protocol client: what it shows does not depend on the store
    if "store_backend" in inspect.signature(metafunc.function).parameters:
        return True
    starters = _store_starters()[Path(str(metafunc.definition.fspath))]
    if starters & set(metafunc.fixturenames):
        return True
    return bool(_calls(starters).search(inspect.getsource(metafunc.function)))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_backend" in metafunc.fixturenames:
        if metafunc.definition.get_closest_marker("postgres_only"):
            stores = [s for s in STORES if s == "postgres"]
        elif _opens_store(metafunc):
            stores = STORES
        else:
            return  # one store, the default: no parameter, so test ids stay as they were
        metafunc.parametrize("store_backend", stores, indirect=True)


_ONE_STORE: list[str] = []
"""Set while a test runs that is on the default store only and not marked so: the
test's id (see `_one_store_guard`)."""


def _one_store_guard(what: str) -> None:
    """Fail a test that opens a store or starts a daemon although `_opens_store` did
    not give it every store: the detection missed it (say `sqlite_only` and why, or
    name `store_backend`, or call the helper in the test's own body)."""
    if _ONE_STORE:
        raise AssertionError(
            f"{_ONE_STORE[0]} {what} but runs on SQLite only: mark it sqlite_only"
            " (with the reason) or let tests/conftest.py's _opens_store see it"
        )


@pytest.fixture(autouse=True)
def store_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The store this test runs on: with `postgres`, a fresh database of the session's
    cluster, named by `$LOGGBOK_DATABASE` (read by `Store.open` and by every daemon the
    test starts)."""
    kind: str = getattr(request, "param", "sqlite")
    if kind == "postgres":
        monkeypatch.setenv("LOGGBOK_DATABASE", request.getfixturevalue("pg_url"))
    else:
        monkeypatch.delenv("LOGGBOK_DATABASE", raising=False)
    node = request.node
    unmarked = not node.get_closest_marker("sqlite_only")
    in_tui = "tui" in Path(str(node.fspath)).relative_to(_TESTS).parts
    if not hasattr(request, "param") and unmarked and not in_tui:
        _ONE_STORE.append(node.nodeid)
        original = Store.open.__func__

        async def guarded(cls: type[Store], *args: Any, **kwargs: Any) -> Store:
            _one_store_guard("opens a store")
            return await original(cls, *args, **kwargs)

        monkeypatch.setattr(Store, "open", classmethod(guarded))
    try:
        yield kind
    finally:
        _ONE_STORE.clear()


@pytest.fixture
def another_database(
    store_backend: str, request: pytest.FixtureRequest
) -> Iterator[Callable[[], str | None]]:
    """For a test that opens a second, separate store beside the test's own: each call
    gives the database to name to `Store.open` (or `--database`): a fresh PostgreSQL
    database of the session's cluster, or None with SQLite (another data dir is
    another file)."""
    cluster = request.getfixturevalue("postgres_cluster") if store_backend == "postgres" else None
    made: list[str] = []

    def fresh() -> str | None:
        if cluster is None:
            return None
        made.append(cluster.fresh())
        return made[-1]

    yield fresh
    for url in made:
        assert cluster is not None
        cluster.drop(url)


@pytest.fixture(scope="session", autouse=True)
def _own_config_home() -> Iterator[None]:
    """Daemons started by any test read a config file of the session's own (none),
    never the user's `~/.config/loggbok/config.toml`."""
    home = Path(tempfile.mkdtemp(prefix="lb-config-"))
    old = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(home)
    yield
    if old is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = old
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A short temporary folder (Unix socket paths must stay under 108 bytes); kept
    when `$LB_KEEP` is set (to read a failed test's daemon log)."""
    path = Path(tempfile.mkdtemp(prefix="lb-"))
    yield path
    if not os.environ.get("LB_KEEP"):
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def daemon(workdir: Path) -> Iterator[DaemonProcess]:
    (workdir / "data").mkdir()
    proc = DaemonProcess(
        workdir / "d.sock",
        workdir / "data",
        env={"LOGGBOK_MAILDIR_POLL": os.environ.get("LOGGBOK_MAILDIR_POLL", "")},
    )
    proc.start()
    yield proc
    if proc.process is not None:
        proc.stop()


@pytest.fixture
async def client(daemon: DaemonProcess) -> AsyncIterator[Client]:
    conn = await daemon.client()
    yield conn
    await conn.close()
