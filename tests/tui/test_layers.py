"""The TUI imports nothing from loggbok but `loggbok.protocol` (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TUI_DIR = Path(__file__).resolve().parents[2] / "tui"


def _modules() -> list[str]:
    names = []
    for path in sorted(TUI_DIR.rglob("*.py")):
        rel = path.relative_to(TUI_DIR).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        names.append(".".join(["loggbok.tui", *parts]))
    return names


def test_tui_never_loads_the_daemon() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {_modules()!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.startswith('loggbok.') and not "
        "m.startswith(('loggbok.tui', 'loggbok.protocol')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_sources_do_not_name_the_daemon_package() -> None:
    offenders = [
        str(path)
        for path in TUI_DIR.rglob("*.py")
        if "loggbok.daemon" in path.read_text(encoding="utf-8")
        and path.name != "launcher.py"  # starts `python -m loggbok.daemon.main`, imports nothing
    ]
    assert offenders == []
