"""Command-line manners, with the real commands in subprocesses: `--version`, the
documented exit codes, `loggbok call` (JSON on stdout, errors on stderr with a
non-zero exit), no colour codes with NO_COLOR (the TUI: Textual's monochrome
filter), man pages current and installed, and bash completion of method and
parameter names from a running daemon's `rpc.discover`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from loggbok.tui import completion
from tests.conftest import DaemonProcess
from tools import manpages

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


async def _run_async(
    *argv: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(_run, *argv, env=env)


def _loggbok(socket: Path, *args: str) -> tuple[str, ...]:
    return ("loggbok.tui.cli", "--socket", str(socket), *args)


def test_version_on_both_commands() -> None:
    for module, name in (("loggbok.tui.cli", "loggbok"), ("loggbok.daemon.main", "loggbokd")):
        done = _run(module, "--version")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"{name} 0.") and "protocol 1." in done.stdout


def test_usage_mistakes_exit_2() -> None:
    for module in ("loggbok.tui.cli", "loggbok.daemon.main"):
        done = _run(module, "--no-such-option")
        assert done.returncode == 2 and "usage:" in done.stderr


def test_no_daemon_is_exit_1(tmp_path: Path) -> None:
    done = _run(*_loggbok(tmp_path / "none.sock", "call", "daemon.hello"))
    assert done.returncode == 1 and "no daemon answers" in done.stderr and not done.stdout


async def test_call_prints_json_and_errors_go_to_stderr(daemon: DaemonProcess) -> None:
    env = {"NO_COLOR": "1"}
    done = await _run_async(*_loggbok(daemon.socket, "call", "settings.get"), env=env)
    assert done.returncode == 0 and done.stderr == ""
    assert json.loads(done.stdout)["logging_mode"] == "replies_only"
    changed = await _run_async(
        *_loggbok(daemon.socket, "call", "settings.set", 'own_addresses=["me@firma.example"]')
    )
    assert json.loads(changed.stdout)["own_addresses"] == ["me@firma.example"]
    params = await _run_async(
        *_loggbok(daemon.socket, "call", "contacts.create", "--params", '{"email": "a@b.example"}')
    )
    assert json.loads(params.stdout)["id"] >= 1
    unknown = await _run_async(*_loggbok(daemon.socket, "call", "no.such"))
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert unknown.stderr.startswith("error -32601: Method not found")
    invalid = await _run_async(*_loggbok(daemon.socket, "call", "contacts.get", "id=0"))
    assert invalid.returncode == 1 and invalid.stderr.startswith("error -32602")
    malformed = await _run_async(*_loggbok(daemon.socket, "call", "contacts.get", "id"))
    assert malformed.returncode == 2 and "expected key=value" in malformed.stderr
    status = await _run_async(*_loggbok(daemon.socket, "status"), env=env)
    assert status.returncode == 0 and "protocol 1." in status.stdout
    for out in (done, changed, unknown, status):
        assert "\x1b[" not in out.stdout + out.stderr


def test_the_tui_draws_without_colour_under_no_color(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from textual.filter import Monochrome

    from loggbok.tui.app import build_app

    monkeypatch.setenv("NO_COLOR", "1")
    app = build_app(tmp_path / "none.sock")
    assert app.no_color and any(isinstance(f, Monochrome) for f in app._filters)
    monkeypatch.delenv("NO_COLOR")
    assert not build_app(tmp_path / "none.sock").no_color


def test_man_pages_are_current_and_installed() -> None:
    assert manpages.main(["--check"]) == 0, "python -m tools.manpages"
    pages = manpages.pages()
    assert "\\-\\-restore" in pages["loggbokd.1"] and ".SH EXIT STATUS" in pages["loggbokd.1"]
    for command in ("call", "export", "import", "backup", "service install", "completion"):
        assert f".SS {command.replace('-', chr(92) + '-')}" in pages["loggbok.1"], command
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    installed = project["tool"]["setuptools"]["data-files"]["share/man/man1"]
    assert sorted(installed) == ["docs/man/loggbok.1", "docs/man/loggbokd.1"]


def _complete_bash(words: list[str]) -> list[str]:
    script = completion.script("bash")
    program = (
        f"{script}\nCOMP_WORDS=({' '.join(map(repr, words))}); COMP_CWORD={len(words) - 1}\n"
        '_loggbok; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"},
    )
    assert done.returncode == 0, done.stderr
    return [w for w in done.stdout.splitlines() if w]


async def test_bash_completes_methods_and_params_from_the_daemon(daemon: DaemonProcess) -> None:
    assert (BIN / "loggbok").exists()
    sock = ["--socket", str(daemon.socket)]
    methods = await asyncio.to_thread(_complete_bash, ["loggbok", *sock, "call", "contacts.l"])
    assert methods == ["contacts.list"]
    params = await asyncio.to_thread(
        _complete_bash, ["loggbok", *sock, "call", "archive.export", "co"]
    )
    assert params == ["contact_id="]
    commands = await asyncio.to_thread(_complete_bash, ["loggbok", "ex"])
    assert commands == ["export"]


def test_completion_without_a_daemon_uses_the_clients_protocol(tmp_path: Path) -> None:
    words = completion.words(tmp_path / "none.sock", "methods", None)
    assert "config.reload" in words and "archive.backup" in words
    assert completion.words(tmp_path / "none.sock", "params", "no.such") == []


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_ask_for_the_same_words(shell: str) -> None:
    done = _run("loggbok.tui.cli", "completion", shell)
    assert done.returncode == 0
    assert "_complete methods" in done.stdout and "_complete params" in done.stdout
    assert "export" in done.stdout
