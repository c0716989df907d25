"""`loggbok service install`: the systemd user units that run loggbokd.

`loggbokd.socket` listens on `%t/loggbok/daemon.sock` (the runtime dir, the
protocol's default socket) and starts `loggbokd.service` on the first
connection; the service is `Type=notify` (loggbokd says when it is ready) with
a watchdog, and logs to the journal. Both go to `$XDG_CONFIG_HOME/systemd/user/`
(`~/.config/systemd/user/`); `--print` shows them instead.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from loggbok.tui.launcher import DAEMON_MODULE

SERVICE_NAME = "loggbokd.service"
SOCKET_NAME = "loggbokd.socket"
WATCHDOG_SECONDS = 60


def unit_dir() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "systemd" / "user"


def daemon_command() -> list[str]:
    """The installed `loggbokd`: beside this interpreter (a venv, pipx), else on PATH,
    else this interpreter running the module."""
    beside = Path(sys.executable).with_name("loggbokd")
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("loggbokd")
    if found:
        return [str(Path(found).resolve())]
    return [sys.executable, "-m", DAEMON_MODULE]


def _quote(word: str) -> str:
    """A word of an Exec= line (systemd.service(5) quoting; `%` is a specifier)."""
    word = word.replace("%", "%%")
    if word and not any(c in word for c in " \t\"'\\;$"):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def units(command: list[str] | None = None) -> dict[str, str]:
    """File name -> contents of both units."""
    exec_start = " ".join(_quote(w) for w in (command or daemon_command()))
    service = f"""[Unit]
Description=loggbok daemon: email conversations onto contacts' timelines
Documentation=man:loggbokd(1)
Requires={SOCKET_NAME}
After={SOCKET_NAME}

[Service]
Type=notify
NotifyAccess=main
ExecStart={exec_start} --socket %t/loggbok/daemon.sock
ExecReload=/bin/kill -HUP $MAINPID
WatchdogSec={WATCHDOG_SECONDS}
Restart=on-failure
RestartSec=5

[Install]
Also={SOCKET_NAME}
WantedBy=default.target
"""
    socket = """[Unit]
Description=loggbok daemon socket
Documentation=man:loggbokd(1)

[Socket]
ListenStream=%t/loggbok/daemon.sock
SocketMode=0600
DirectoryMode=0700
FileDescriptorName=loggbok

[Install]
WantedBy=sockets.target
"""
    return {SERVICE_NAME: service, SOCKET_NAME: socket}


def install(print_only: bool) -> int:
    generated = units()
    if print_only:
        for name, text in generated.items():
            print(f"# {name}\n{text}")
        return 0
    target = unit_dir()
    target.mkdir(parents=True, exist_ok=True)
    for name, text in generated.items():
        path = target / name
        temp = path.with_name(f".{name}.tmp")
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)
        print(f"wrote {path}")
    print("now: systemctl --user daemon-reload && systemctl --user enable --now loggbokd.socket")
    return 0
