"""Every file the daemon makes is private, even in a data dir that was not.

In a data dir made 0755 beforehand, the database, its WAL and SHM, the log and
the attachments were created 0644: readable by every local user. The daemon
now works under umask 077 and makes such a data dir 0700.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from tests.conftest import DaemonProcess
from tests.support.store_rows import on_postgres, value

NOW = "2026-11-02T09:30:00+00:00"


async def test_files_in_an_open_data_dir_are_created_private(workdir: Path) -> None:
    data = workdir / "data"
    data.mkdir()
    os.chmod(data, 0o755)
    daemon = DaemonProcess(workdir / "d.sock", data, args=["--demo"], env={"LOGGBOK_DEMO_NOW": NOW})
    daemon.start()
    try:
        client = await daemon.client()
        boxes = (await client.call(m.MAILBOXES_LIST)).mailboxes
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=boxes[0].id))
        await client.close()
        made = {p.relative_to(data).as_posix(): p for p in data.rglob("*")}
        open_to_others = {
            name: f"{stat.S_IMODE(p.lstat().st_mode):04o}"
            for name, p in made.items()
            if stat.S_IMODE(p.lstat().st_mode) & 0o077
        }
        assert open_to_others == {}
        database = () if on_postgres(data) else ("loggbok.sqlite3", "loggbok.sqlite3-wal",
                                                 "loggbok.sqlite3-shm")  # fmt: skip
        for name in (*database, "loggbokd.log", "daemon.lock"):
            assert name in made, sorted(made)
        if on_postgres(data):  # attachments live in the database (staged in the data dir)
            assert value(data, "SELECT count(*) FROM attachment_blobs") > 0
        else:
            assert any(p.is_file() and "blobs" in name for name, p in made.items()), sorted(made)
    finally:
        daemon.stop()
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    lines = [json.loads(line) for line in (data / "loggbokd.log").read_text().splitlines()]
    assert any("was open to other users (mode 0755): made it 0700" in x["message"] for x in lines)
