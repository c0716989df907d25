"""A real PostgreSQL for the tests: one cluster per session, a fresh database per test.

Debian's server binaries (`/usr/lib/postgresql/<version>/bin`); `initdb` in a
temporary folder as a non-root user (the `postgres` system user the package
makes, else `nobody`: PostgreSQL refuses to run as root); Unix socket only
(`listen_addresses=''`), no durability (the tests never survive a crash of
their cluster). A template database is migrated once; each test's database is
`CREATE DATABASE ... TEMPLATE` of it (a file copy, milliseconds).

`pg_url` gives a test a fresh database URL; `postgres_cluster` the server.
`initdb`, `serve` and `stop` are the steps on their own (`bench/scale.py` keeps a
cluster between runs).
"""

from __future__ import annotations

import asyncio
import glob
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

TEMPLATE = "lb_template"


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _run_as() -> str | None:
    """The user the server runs as when the tests run as root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("no user to run PostgreSQL as (neither postgres nor nobody)")


@dataclass
class Cluster:
    socket_dir: Path
    process: subprocess.Popen[bytes]
    _names: Iterator[int]

    def url(self, database: str) -> str:
        return f"postgresql:///{database}?host={self.socket_dir}&user=loggbok"

    def fresh(self) -> str:
        """A new database, migrated, for one test; its URL."""
        name = f"lb_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

    def drop(self, url: str) -> None:
        name = url.split("?")[0].rsplit("/", 1)[1]
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _prefix(root: Path) -> list[str]:
    """The command prefix that runs the server's binaries as `_run_as()` (none when not
    root); gives that user `root` and its socket folder."""
    user = _run_as()
    if not user:
        return []
    entry = pwd.getpwnam(user)
    for path in (root, root / "sock"):
        shutil.chown(path, user)
    # setpriv execs the server itself: its pid is the server's, for the signals
    return ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups",
            "--"]  # fmt: skip


def initdb(root: Path) -> None:
    """A new cluster in `root/data` (`root` exists and is reachable by the server's user)."""
    bindir = _bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL's server binaries are not installed")
    (root / "sock").mkdir(exist_ok=True)
    subprocess.run(
        [*_prefix(root), str(bindir / "initdb"), "-D", str(root / "data"), "-U", "loggbok",
         "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=root,
    )  # fmt: skip


def serve(root: Path) -> Cluster:
    """Start the cluster of `root/data` (made by `initdb`) on a socket in `root/sock`;
    returns once it answers. No durability: `stop` it to keep its data."""
    bindir = _bindir()
    assert bindir is not None
    process = subprocess.Popen(
        [*_prefix(root), str(bindir / "postgres"), "-D", str(root / "data"),
         "-k", str(root / "sock"), "-c", "listen_addresses=", "-c", "fsync=off",
         "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
         "-c", "max_connections=300"],
        stdout=subprocess.DEVNULL, stderr=open(root / "server.log", "ab"),  # noqa: SIM115
        cwd=root,
    )  # fmt: skip
    cluster = Cluster(root / "sock", process, itertools.count(1))
    deadline = time.monotonic() + 60
    while True:
        try:
            with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
                conn.execute("SELECT 1")
            return cluster
        except psycopg.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((root / "server.log").read_text()) from None
            time.sleep(0.1)


def stop(cluster: Cluster) -> None:
    """Shut the server down (fast: clients may still be connected)."""
    cluster.process.send_signal(signal.SIGINT)
    try:
        cluster.process.wait(30)
    except subprocess.TimeoutExpired:
        cluster.process.kill()
        cluster.process.wait()


def _start(root: Path) -> Cluster:
    if _bindir() is None:
        pytest.skip("PostgreSQL's server binaries are not installed (.ci/install-system-deps)")
    initdb(root)
    cluster = serve(root)
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {TEMPLATE}")
    asyncio.run(_migrate(cluster.url(TEMPLATE), root / "staging"))
    return cluster


async def _migrate(url: str, staging: Path) -> None:
    from loggbok.daemon.store.blobs import BlobStore
    from loggbok.daemon.store.postgres_db import PostgresDatabase

    db = await PostgresDatabase.open(url, BlobStore(staging))  # nothing is staged
    await db.close()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="lb-pg-"))
    os.chmod(root, 0o755)
    cluster = _start(root)
    yield cluster
    stop(cluster)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_cluster: Cluster) -> Iterator[str]:
    """A fresh, migrated database of the session's cluster."""
    url = postgres_cluster.fresh()
    yield url
    postgres_cluster.drop(url)
