"""The layer rule, checked in fresh interpreters: protocol imports neither daemon
nor tui; tui imports only protocol; daemon never imports Textual. Inside the
daemon, by a static scan of every import (`ast`): the store imports neither sync
nor rpc, rules import neither store, sync nor rpc, and only the store imports a
database driver. Also: the committed OpenRPC document is current, and pyproject
lists every subpackage."""

from __future__ import annotations

import ast
import json
import tomllib
from pathlib import Path

from tests.support.fresh_interpreter import modules_after

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import importlib, pkgutil
top = importlib.import_module({top!r})
for info in pkgutil.walk_packages(top.__path__, {top!r} + "."):
    importlib.import_module(info.name)
"""


def _loaded(top: str) -> set[str]:
    return {m for m in modules_after(CHECK.format(top=top)) if m.startswith(("loggbok", "textual"))}


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


DAEMON = ROOT / "daemon"
DRIVERS = ("sqlite3", "aiosqlite", "psycopg")


def _module(path: Path) -> str:
    return ".".join(["loggbok", *path.relative_to(ROOT).with_suffix("").parts])


def _imported(path: Path) -> set[str]:
    """Every module `path` imports (anywhere in it, under TYPE_CHECKING too)."""
    found: set[str] = set()
    package = _module(path).rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def _daemon_imports() -> dict[str, set[str]]:
    return {_module(p): _imported(p) for p in DAEMON.rglob("*.py")}


def _breaking(owner: str, forbidden: tuple[str, ...]) -> list[str]:
    prefix = f"loggbok.daemon.{owner}"
    return sorted(
        f"{module} imports {name}"
        for module, names in _daemon_imports().items()
        if module == prefix or module.startswith(prefix + ".")
        for name in names
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    )


def test_store_imports_neither_sync_nor_rpc() -> None:
    assert _breaking("store", ("loggbok.daemon.sync", "loggbok.daemon.rpc")) == []


def test_rules_import_neither_store_sync_nor_rpc() -> None:
    forbidden = ("loggbok.daemon.store", "loggbok.daemon.sync", "loggbok.daemon.rpc")
    assert _breaking("rules", forbidden) == []


def test_only_the_store_imports_a_database_driver() -> None:
    outside = sorted(
        f"{module} imports {name}"
        for module, names in _daemon_imports().items()
        if not module.startswith("loggbok.daemon.store.")
        for name in names
        if name.split(".")[0] in DRIVERS
    )
    assert outside == []
    assert any(
        name.split(".")[0] in DRIVERS
        for module, names in _daemon_imports().items()
        if module.startswith("loggbok.daemon.store.")
        for name in names
    ), "the scan finds the store's own driver imports"


def test_exchangelib_is_loaded_only_for_an_ews_mailbox() -> None:
    """Every daemon imports the EWS provider (the registry); exchangelib (and what it
    brings: lxml's schema, pygments, spnego: 0.25 s and 30,000 objects) only once an
    EWS mailbox is opened (`providers/ews/settings.py`)."""
    loaded = modules_after("import loggbok.daemon.app")
    assert "loggbok.daemon.app" in loaded and "exchangelib" not in loaded
