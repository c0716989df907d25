"""`loggbokd --database URL`: the store named by the flag (SQLite at a path of its own,
or PostgreSQL), and a URL it cannot use refused as a command-line mistake."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import ErrorCode, RpcError
from tests.conftest import DaemonProcess


def test_a_url_of_another_database_is_exit_2(workdir: Path) -> None:
    for url in ("mysql://db/loggbok", "sqlite://relative/path"):
        done = subprocess.run(
            [sys.executable, "-m", "loggbok.daemon.main", "--data-dir", str(workdir),
             "--socket", str(workdir / "d.sock"), "--database", url],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert url in done.stderr and "--database" in done.stderr


async def test_the_flag_names_the_store(workdir: Path, store_backend: str) -> None:
    (workdir / "data").mkdir()
    url = os.environ.get("LOGGBOK_DATABASE") or f"sqlite://{workdir / 'elsewhere.db'}"
    daemon = DaemonProcess(workdir / "d.sock", workdir / "data", args=["--database", url])
    daemon.env = {"LOGGBOK_DATABASE": ""}  # the flag alone names it
    daemon.start()
    try:
        client = await daemon.client()
        made = await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email="a@kund.example"))
        await client.close()
    finally:
        daemon.stop()
    assert made.id == 1
    assert not any((workdir / "data").glob("loggbok.sqlite*"))
    if store_backend == "sqlite":
        assert (workdir / "elsewhere.db").exists()


@pytest.mark.postgres_only
async def test_a_postgresql_store_is_not_backed_up_as_a_file(workdir: Path, client: Client) -> None:
    with pytest.raises(RpcError) as caught:
        await client.call(m.ARCHIVE_BACKUP, t.ArchiveBackupParams(path=str(workdir / "b")))
    assert caught.value.code == ErrorCode.UNSUPPORTED and "pg_dump" in str(caught.value.data)
