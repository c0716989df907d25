"""A parse worker loads the parsers, not the daemon.

multiprocessing's "spawn" prepares each worker by importing its parent's main
module first: `loggbok.daemon.main` under `python -m`, the `loggbokd` script
otherwise. Both must stay light (`daemon/main.py`), or every worker would load
the store, the RPC server and every provider's client library before its first
parse. Checked in fresh interpreters with the preparation spawn itself does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.fresh_interpreter import modules_after

PREPARED = """
import multiprocessing.spawn, sys
multiprocessing.spawn.prepare({preparation!r})
import loggbok.daemon.sync.parse_pool
"""

HEAVY = ("loggbok.daemon.app", "loggbok.daemon.rpc", "loggbok.daemon.cli", "aiosqlite",
         "jsonrpcserver", "exchangelib", "aiohttp", "psycopg", "msal")  # fmt: skip


def _worker_modules(preparation: dict[str, object]) -> set[str]:
    return modules_after(PREPARED.format(preparation=preparation))


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.startswith(HEAVY)}


def test_a_worker_of_python_m_loggbok_daemon_main_loads_no_daemon() -> None:
    modules = _worker_modules({"init_main_from_name": "loggbok.daemon.main"})
    assert "__mp_main__" in modules
    assert not _heavy(modules)


def test_a_worker_of_the_loggbokd_script_loads_no_daemon() -> None:
    script = Path(sys.executable).parent / "loggbokd"
    if not script.exists():
        pytest.skip("no loggbokd script beside this interpreter (not an installed venv)")
    modules = _worker_modules({"init_main_from_path": str(script)})
    assert "loggbok.daemon.main" in modules
    assert not _heavy(modules)
