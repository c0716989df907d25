"""Default socket and data paths for the CLI and the TUI: the protocol's rule
(`loggbok.protocol.paths`), so both ends always agree."""

from __future__ import annotations

from pathlib import Path

from loggbok.protocol import paths


def socket_path() -> Path:
    """The default socket the daemon listens on."""
    return paths.default_socket_path()


def data_dir() -> Path:
    """The default data dir of the daemon."""
    return paths.default_data_dir()


def demo_socket_path() -> Path:
    """The socket of the demo daemon, beside the real one."""
    return paths.demo_paths()[0]


def demo_data_dir() -> Path:
    """The data dir of `loggbok demo`: apart from the real one."""
    return paths.demo_paths()[1]
