"""Where the daemon's socket and data live by default, shared by both ends.

Socket: `$XDG_RUNTIME_DIR/loggbok/daemon.sock`; without XDG_RUNTIME_DIR, a
private per-user folder under the system temp dir (made 0700 by the daemon).
Data: platformdirs' user data dir (`~/.local/share/loggbok` on Linux).
Config file: `$XDG_CONFIG_HOME/loggbok/config.toml` (`~/.config/loggbok/config.toml`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import platformdirs


def default_socket_path() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "loggbok" / "daemon.sock"
    return Path(tempfile.gettempdir()) / f"loggbok-{os.getuid()}" / "daemon.sock"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("loggbok", appauthor=False))


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir("loggbok", appauthor=False)) / "config.toml"


def demo_paths() -> tuple[Path, Path]:
    """(socket, data dir) of `loggbok demo`: apart from the user's real ones."""
    return default_socket_path().with_name("demo.sock"), default_data_dir() / "demo"
