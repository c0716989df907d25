"""The layer rule, checked in fresh interpreters: protocol imports neither daemon
nor tui; tui imports only protocol; daemon never imports Textual. Also: the
committed OpenRPC document is current, and pyproject lists every subpackage."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import importlib, pkgutil, sys
top = importlib.import_module({top!r})
for info in pkgutil.walk_packages(top.__path__, {top!r} + "."):
    importlib.import_module(info.name)
print(",".join(sorted(m for m in sys.modules if m.startswith(("loggbok", "textual")))))
"""


def _loaded(top: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", CHECK.format(top=top)],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    ).stdout
    return set(out.strip().split(","))


def test_protocol_imports_neither_daemon_nor_tui() -> None:
    loaded = _loaded("loggbok.protocol")
    assert not {m for m in loaded if m.startswith(("loggbok.daemon", "loggbok.tui", "textual"))}


def test_tui_imports_only_protocol() -> None:
    assert not {m for m in _loaded("loggbok.tui") if m.startswith("loggbok.daemon")}


def test_daemon_never_imports_textual() -> None:
    assert not {m for m in _loaded("loggbok.daemon") if m.startswith(("textual", "loggbok.tui"))}


def test_openrpc_document_is_current() -> None:
    from loggbok.protocol.openrpc import render

    committed = (ROOT / "protocol" / "openrpc.json").read_text(encoding="utf-8")
    assert json.loads(committed) == json.loads(render()), (
        "protocol/openrpc.json is stale: python -m loggbok.protocol.openrpc > protocol/openrpc.json"
    )


def test_openrpc_document_lists_every_error_code() -> None:
    from loggbok.protocol.errors import ErrorCode
    from loggbok.protocol.openrpc import build

    errors = build()["components"]["errors"]
    assert {e["code"] for e in errors.values()} == {int(c) for c in ErrorCode}
    assert errors["STORAGE_FULL"]["code"] == -32009


def test_pyproject_lists_every_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set()
    for prefix, folder in config["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([prefix, *rel.parts]))
    assert found == listed
