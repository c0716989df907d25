"""Where the daemon's socket and data live by default, shared by the CLI and the TUI.

The daemon's own rule lives in `loggbok.protocol.paths` once that module
exists; until then this module follows the same rule: the socket is
`$XDG_RUNTIME_DIR/loggbok/daemon.sock`, else a private per-user folder under the
system temp dir; the data in platformdirs' user data dir. `loggbok demo` keeps
its own socket and data dir so it never touches real data.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import platformdirs

APP_NAME = "loggbok"


def socket_path() -> Path:
    """The default socket the daemon listens on."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / APP_NAME / "daemon.sock"
    return Path(tempfile.gettempdir()) / f"{APP_NAME}-{os.getuid()}" / "daemon.sock"


def data_dir() -> Path:
    """The default data dir of the daemon."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def demo_socket_path() -> Path:
    """The socket of the demo daemon, beside the real one."""
    return socket_path().with_name("demo.sock")


def demo_data_dir() -> Path:
    """The data dir of `loggbok demo`: apart from the real one."""
    return data_dir() / "demo"
