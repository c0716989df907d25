"""SecretStore's file fallback: round trip, mode 0600 whatever the umask, atomic rewrite."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from loggbok.daemon.secrets import SecretStore


def test_file_fallback_round_trip(tmp_path: Path) -> None:
    store = SecretStore(tmp_path, use_keyring=False)
    assert store.get("mailbox:1") is None
    store.set("mailbox:1", "hunter2")
    store.set("mailbox:2", 'pä$$ "quoted"')
    assert store.get("mailbox:1") == "hunter2"
    assert SecretStore(tmp_path, use_keyring=False).get("mailbox:2") == 'pä$$ "quoted"'
    store.delete("mailbox:1")
    assert store.get("mailbox:1") is None
    assert json.loads((tmp_path / "secrets.json").read_text()) == {"mailbox:2": 'pä$$ "quoted"'}


def test_file_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        store = SecretStore(tmp_path, use_keyring=False)
        store.set("k", "v")
        store.set("k", "w")  # a rewrite replaces the file: still 0600
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode)
    assert mode == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secrets.json"]  # no temp files left
