"""`loggbokd`'s command line (foreground; `--demo` seeds demo data), run by `main.py`.

Exit status: 0 after an orderly stop (SIGTERM, SIGINT) or a restore; 1 when it
cannot start (an unusable database, a socket from systemd it cannot serve, a
refused restore, a `--user` who is not a member of the store); 2 for a
command-line mistake, or when another loggbokd already serves the socket or
uses the data dir (`docs/cli.md`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import stat
import sys
from pathlib import Path

from loggbok.daemon import __version__
from loggbok.daemon.app import AlreadyRunning, Daemon, NotAMember, SocketPathRefused
from loggbok.daemon.config.parse import ConfigInvalid, DaemonOptions, daemon_options
from loggbok.daemon.logs import setup_logging
from loggbok.daemon.store.backup import RestoreRefused, restore
from loggbok.daemon.store.db import database_url
from loggbok.daemon.store.errors import StoreUnavailable
from loggbok.daemon.store.store import DATABASE_VARIABLE
from loggbok.daemon.systemd import ActivationError, Notifier, inherited_socket, journal_stream
from loggbok.protocol.paths import default_config_path, default_data_dir, default_socket_path
from loggbok.protocol.version import PROTOCOL_VERSION

DESCRIPTION = (
    "The loggbok daemon: syncs your mailboxes, decides by rules R1-R18 which emails go on"
    " which contact's timeline, stores them, and answers JSON-RPC on a private Unix socket."
    " Runs in the foreground; under systemd see `loggbok service install`."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loggbokd", description=DESCRIPTION)
    parser.add_argument(
        "--version",
        action="version",
        version=f"loggbokd {__version__} (protocol {PROTOCOL_VERSION})",
    )
    parser.add_argument(
        "--socket",
        type=Path,
        default=None,
        help="socket path (default: $XDG_RUNTIME_DIR/loggbok/daemon.sock)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="database, attachments and log (default: the user data dir)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="the config file (default: $XDG_CONFIG_HOME/loggbok/config.toml; not read with"
        " --demo)",
    )
    parser.add_argument(
        "--user",
        default=None,
        metavar="EMAIL",
        help="the member this daemon serves (default: user in the config file, else"
        " the single user of a one-person store; the first --user on a new store names that"
        " user, the admin)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="on a fresh data dir, build a demo Maildir with contacts and use it",
    )
    parser.add_argument(
        "--restore",
        type=Path,
        default=None,
        metavar="PATH",
        help="copy the backup in PATH (from `loggbok backup`) into the data dir, which must"
        " hold no database and have no daemon running, then exit",
    )
    parser.add_argument(
        "--database",
        default=None,
        metavar="URL",
        help="the store: sqlite:///abs/path (or a bare path) or postgresql://... for a team's"
        " shared database (default: $LOGGBOK_DATABASE, else loggbok.sqlite3 in the data dir)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug lines too")
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


async def _run(args: argparse.Namespace, socket_path: Path, data_dir: Path) -> int:
    try:
        listening = inherited_socket(socket_path)
    except ActivationError as exc:
        print(f"loggbokd: {exc}", file=sys.stderr)
        return 1
    daemon = Daemon(
        socket_path,
        data_dir,
        demo=args.demo,
        listening=listening,
        notifier=Notifier(),
        config_path=args.config_path,
        user=args.user,
        database=args.database,
    )

    def ready() -> None:
        if not journal_stream():  # under systemd the unit's status says it
            print(
                f"loggbokd: listening on {socket_path} (data in {data_dir});"
                " SIGTERM or Ctrl-C stops it",
                file=sys.stderr,
                flush=True,
            )

    try:
        await daemon.serve(on_ready=ready)
    except AlreadyRunning as exc:
        print(f"loggbokd: {exc}", file=sys.stderr)
        return 2
    except (StoreUnavailable, SocketPathRefused, NotAMember) as exc:
        print(f"loggbokd: {exc}", file=sys.stderr)
        return 1
    return 0


def startup_options(config: Path | None) -> DaemonOptions:
    """The config file's `user` and `database`, read once at start; an absent file
    has none. ConfigInvalid (with its line) when the file cannot be read."""
    if config is None:
        return DaemonOptions()
    try:
        text = config.read_text(encoding="utf-8")
    except FileNotFoundError:
        return DaemonOptions()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigInvalid(f"config file {config}: {exc}") from None
    try:
        return daemon_options(text)
    except ConfigInvalid as exc:
        raise ConfigInvalid(f"config file {config}: {exc}") from None


def make_private(data_dir: Path) -> tuple[int, str] | None:
    """Create the data dir 0700, or make an existing one of ours 0700 when group or
    others could enter it; returns (level, line) to log when it was, or stays, open."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = data_dir.stat()
    mode = stat.S_IMODE(info.st_mode)
    if not mode & 0o077:
        return None
    if info.st_uid != os.getuid():
        return logging.WARNING, (
            f"the data dir {data_dir} is open to other users (mode {mode:04o}) and belongs"
            f" to uid {info.st_uid}: it is left as it is"
        )
    os.chmod(data_dir, 0o700)
    return logging.INFO, (
        f"the data dir {data_dir} was open to other users (mode {mode:04o}): made it 0700"
    )


def _restore(source: Path, data_dir: Path) -> int:
    try:
        done = restore(source, data_dir)
    except RestoreRefused as exc:
        print(f"loggbokd: {exc}", file=sys.stderr)
        return 1
    print(
        f"loggbokd: restored {source} into {data_dir} ({done.database_bytes} bytes of database,"
        f" {done.blobs_copied} attachment files); start loggbokd to use it"
    )
    return 0


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    os.umask(0o077)  # every file and folder the daemon (and its workers) makes is private
    data_dir: Path = (args.data_dir or default_data_dir()).expanduser().resolve()
    socket_path: Path = (args.socket or default_socket_path()).expanduser().absolute()
    config = None if args.demo and args.config is None else (args.config or default_config_path())
    args.config_path = config.expanduser().absolute() if config else None
    try:
        options = startup_options(args.config_path)
    except ConfigInvalid as exc:
        print(f"loggbokd: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    args.user = args.user or options.user
    if not args.database and not args.demo and not os.environ.get(DATABASE_VARIABLE):
        args.database = options.database
    if args.database:
        try:
            database_url(data_dir, args.database)
        except StoreUnavailable as exc:
            print(f"loggbokd: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
    if args.restore is not None:
        raise SystemExit(_restore(args.restore.expanduser().resolve(), data_dir))
    opened = make_private(data_dir)
    setup_logging(data_dir, args.verbose, journal=journal_stream())
    if opened:
        logging.getLogger("loggbok.daemon").log(opened[0], "%s", opened[1])
    raise SystemExit(asyncio.run(_run(args, socket_path, data_dir)))
