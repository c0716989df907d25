"""Where the daemon's socket and data live by default, shared by the CLI and the TUI.

The daemon resolves the same paths through platformdirs: the socket is
`$XDG_RUNTIME_DIR/loggbok/daemon.sock` (platformdirs' private fallback when
that is unset), the data in the user's data dir. `loggbok demo` keeps its own
data dir and socket so it never touches real data.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import platformdirs

APP_NAME = "loggbok"
SOCKET_NAME = "daemon.sock"


def runtime_dir() -> Path:
    """The per-session runtime folder (platformdirs warns when it falls back; we accept that)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Path(platformdirs.user_runtime_dir(APP_NAME))


def socket_path() -> Path:
    """The default socket the daemon listens on."""
    return runtime_dir() / SOCKET_NAME


def data_dir() -> Path:
    """The default data dir of the daemon."""
    return Path(platformdirs.user_data_dir(APP_NAME))


def demo_data_dir() -> Path:
    """The data dir of `loggbok demo`: apart from the real one."""
    return data_dir() / "demo"


def demo_socket_path() -> Path:
    """The socket of the demo daemon: apart from the real one."""
    return runtime_dir() / "demo.sock"
