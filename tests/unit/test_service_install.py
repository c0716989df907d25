"""`loggbok service install [--print]`: the systemd user units, where systemd
looks for them, with what socket activation and `Type=notify` need, and as
systemd itself parses them (`systemd-analyze --user verify`)."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from loggbok.tui import cli, service


def _parse(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read_string(text)
    return parser


def test_install_writes_both_units(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert cli.main(["service", "install"]) == 0
    folder = tmp_path / "systemd" / "user"
    unit = _parse((folder / "loggbokd.service").read_text())
    sock = _parse((folder / "loggbokd.socket").read_text())
    assert unit["Service"]["Type"] == "notify"
    assert int(unit["Service"]["WatchdogSec"]) > 0
    exec_start = unit["Service"]["ExecStart"].split()
    assert exec_start[0] == str(Path(sys.executable).with_name("loggbokd"))
    assert exec_start[1:] == ["--socket", "%t/loggbok/daemon.sock"]
    assert sock["Socket"]["ListenStream"] == "%t/loggbok/daemon.sock"
    assert sock["Socket"]["SocketMode"] == "0600"
    assert sock["Socket"]["DirectoryMode"] == "0700"
    assert "systemctl --user" in capsys.readouterr().out


def test_print_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert cli.main(["service", "install", "--print"]) == 0
    out = capsys.readouterr().out
    assert "# loggbokd.service" in out and "# loggbokd.socket" in out
    assert "ListenStream=%t/loggbok/daemon.sock" in out
    assert not (tmp_path / "systemd").exists()


def test_exec_words_are_quoted_for_systemd() -> None:
    text = service.units(["/opt/my tools/loggbokd", "50%"])["loggbokd.service"]
    assert 'ExecStart="/opt/my tools/loggbokd" 50%% --socket' in text


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    folder = tmp_path / "systemd" / "user"
    folder.mkdir(parents=True)
    for name, text in service.units().items():
        (folder / name).write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "--user", "verify", "--man=no", *sorted(map(str, folder.iterdir()))],
        env={**os.environ, "XDG_RUNTIME_DIR": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
