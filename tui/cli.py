"""The `loggbok` command: `call`, `status`, `demo`, and the TUI when run alone.

`loggbok call METHOD key=value ...` sends any method with named params (each
value parsed as JSON when it parses, else taken as a string; or the whole
params as `--params '{json}'`) and prints the JSON result, or the error with its
code on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import IO, Any

import msgspec

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import RpcError
from loggbok.protocol.socket_check import UnsafeSocket, listener_pid
from loggbok.protocol.version import PROTOCOL_VERSION
from loggbok.tui import archive, completion, launcher, paths, service


def parse_value(text: str) -> Any:
    """JSON when it parses (numbers, true, null, lists, objects), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_params(pairs: Sequence[str], raw: str | None) -> dict[str, Any]:
    """`key=value` pairs over `--params` JSON; raises `ValueError` on a malformed pair."""
    params: dict[str, Any] = {}
    if raw:
        loaded = json.loads(raw)
        if not isinstance(loaded, dict):
            raise ValueError("--params must be a JSON object")
        params.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"expected key=value, got {pair!r}")
        params[key] = parse_value(value)
    return params


def client_version() -> str:
    try:
        return importlib.metadata.version("loggbok")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loggbok",
        description="Log email conversations onto contacts' timelines: the terminal UI (run"
        " alone) and commands that talk to the daemon loggbokd over its socket.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"loggbok {client_version()} (protocol {PROTOCOL_VERSION})",
    )
    parser.add_argument(
        "--socket",
        type=Path,
        default=None,
        help="the daemon's socket (default: %(default)s → the per-user one)",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="data dir for a daemon started by this command"
    )
    sub = parser.add_subparsers(dest="command")
    call = sub.add_parser("call", help="call a daemon method and print the JSON result")
    call.add_argument("method", help="e.g. contacts.list")
    call.add_argument("params", nargs="*", metavar="key=value")
    call.add_argument("--params", dest="params_json", default=None, metavar="JSON")
    sub.add_parser("status", help="the daemon's version and the mailboxes' state")
    sub.add_parser("stop", help="stop the daemon (it syncs until then, also without the TUI)")
    sub.add_parser("demo", help="open the TUI on the demo mailbox and contacts")
    sub.add_parser("tui", help="open the TUI (the default)")
    export = sub.add_parser(
        "export", help="write logged mail to stdout as jsonl, mbox (mboxrd) or csv"
    )
    export.add_argument("--format", choices=archive.FORMATS, required=True)
    export.add_argument("--contact", type=int, default=None, metavar="ID", help="one contact's")
    export.add_argument("--since", default=None, metavar="DATE", help="e.g. 2025-01-31")
    restore_in = sub.add_parser("import", help="put a jsonl export on the timelines")
    restore_in.add_argument("--format", choices=["jsonl"], default="jsonl")
    restore_in.add_argument("file", help="the export, or - for stdin")
    backup = sub.add_parser(
        "backup", help="copy the database and attachments into PATH (consistent, online)"
    )
    backup.add_argument("path", type=Path)
    completion_p = sub.add_parser(
        "completion", help="print a shell completion script (method and parameter names too)"
    )
    completion_p.add_argument("shell", choices=completion.SHELLS)
    service = sub.add_parser("service", help="run loggbokd as a systemd user service")
    service_sub = service.add_subparsers(dest="service_command", required=True)
    install = service_sub.add_parser(
        "install", help="write loggbokd.service and loggbokd.socket to ~/.config/systemd/user"
    )
    install.add_argument("--print", action="store_true", help="show the units, write nothing")
    return parser


def run_call(socket: Path, name: str, pairs: Sequence[str], raw: str | None) -> int:
    try:
        params = parse_params(pairs, raw)
    except ValueError as exc:
        print(f"loggbok: {exc}", file=sys.stderr)
        return 2

    async def work(client: Client) -> int:
        result = await client.call_raw(name, params)
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0

    return _client_run(socket, work)


def run_status(socket: Path) -> int:
    async def work(client: Client) -> int:
        hello = await client.call(methods.HELLO, t.HelloParams(client="loggbok"))
        boxes = await client.call(methods.MAILBOXES_LIST)
        print(f"daemon {hello.daemon_version}, protocol {hello.protocol_version}, socket {socket}")
        if not boxes.mailboxes:
            print("no mailboxes connected")
        for box in boxes.mailboxes:
            detail = f" ({box.status_detail})" if box.status_detail else ""
            print(f"mailbox {box.id}: {box.address} [{box.provider}] {box.status}{detail}")
            print(
                f"  last sync {box.last_sync or 'never'}, blind threads {box.blind_threads}, "
                f"quarantined {box.quarantined}"
            )
        return 0

    return _client_run(socket, work)


def _client_run(socket: Path, work: Callable[[Client], Awaitable[int]]) -> int:
    """Run `work` with a client; a daemon error or a missing daemon is exit status 1."""

    async def go() -> int:
        async with await Client.connect(socket) as client:
            return await work(client)

    try:
        return asyncio.run(go())
    except RpcError as exc:
        detail = f": {json.dumps(exc.data, ensure_ascii=False)}" if exc.data is not None else ""
        print(f"error {exc.code}: {exc.message}{detail}", file=sys.stderr)
        return 1
    except UnsafeSocket as exc:
        print(f"loggbok: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"loggbok: no daemon answers on {socket} ({exc})", file=sys.stderr)
        return 1


def run_export(socket: Path, fmt: str, contact: int | None, since: str | None) -> int:
    async def work(client: Client) -> int:
        count = await archive.export(client, sys.stdout.buffer, fmt, contact, since)
        print(f"loggbok: exported {count} messages", file=sys.stderr)
        return 0

    return _client_run(socket, work)


def run_import(socket: Path, file: str) -> int:
    try:
        handle: IO[bytes] = sys.stdin.buffer if file == "-" else open(file, "rb")  # noqa: SIM115
    except OSError as exc:
        print(f"loggbok: {exc}", file=sys.stderr)
        return 1

    async def work(client: Client) -> int:
        result = await archive.import_jsonl(client, handle)
        print(json.dumps(msgspec.to_builtins(result), indent=2))
        return 0

    try:
        return _client_run(socket, work)
    except archive.ImportFileError as exc:
        print(f"loggbok: {file}: {exc}", file=sys.stderr)
        return 1
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def run_backup(socket: Path, path: Path) -> int:
    target = str(path.expanduser().absolute())

    async def work(client: Client) -> int:
        done = await client.call(methods.ARCHIVE_BACKUP, t.ArchiveBackupParams(path=target))
        print(
            f"backup in {done.path}: database {done.database_bytes} bytes,"
            f" {done.blobs_copied} attachment files copied, {done.blobs_present} already there"
        )
        return 0

    return _client_run(socket, work)


def run_stop(socket: Path) -> int:
    try:
        pid = asyncio.run(launcher.stop_daemon(socket))
    except launcher.DaemonStartError as exc:
        print(f"loggbok: {exc}", file=sys.stderr)
        return 1
    if pid is None:
        print(f"loggbok: no daemon was running on {socket}", file=sys.stderr)
    else:
        print(f"loggbok: stopped loggbokd (pid {pid}) on {socket}", file=sys.stderr)
    return 0


def run_tui(socket: Path, data_dir: Path, demo: bool) -> int:
    try:
        started = asyncio.run(launcher.ensure_daemon(socket, data_dir, demo=demo))
    except launcher.DaemonStartError as exc:
        print(f"loggbok: {exc}", file=sys.stderr)
        return 1
    if started:
        print(f"loggbok: started loggbokd on {socket}", file=sys.stderr)
    from loggbok.tui.app import build_app  # Textual loads only when the TUI opens

    build_app(socket, data_dir=data_dir, demo=demo).run()
    print(after_tui(socket, demo), file=sys.stderr)
    return 0


def after_tui(socket: Path, demo: bool) -> str:
    """What happens to the daemon once the TUI quits: the demo's ends with the demo;
    the user's keeps running (and syncing)."""
    if demo:
        try:
            pid = asyncio.run(launcher.stop_daemon(socket))
        except launcher.DaemonStartError as exc:
            return f"loggbok: the demo's daemon did not stop: {exc}"
        return "loggbok: the demo's daemon has stopped." if pid else "loggbok: demo closed."
    if listener_pid(socket) is None:
        return "loggbok: the daemon is not running; `loggbok` starts it again."
    return (
        f"loggbok: loggbokd keeps running in the background on {socket} and keeps"
        " syncing your mailboxes; `loggbok stop` ends it."
    )


def _complete(argv: Sequence[str]) -> int | None:
    """`loggbok [--socket PATH] _complete methods|params [METHOD]`, for the completion
    scripts (kept out of the parser, so it is not in `--help`)."""
    words = list(argv)
    socket = paths.socket_path()
    if words[:1] == ["--socket"] and len(words) > 2:
        socket, words = Path(words[1]), words[2:]
    if words[:1] != ["_complete"] or len(words) < 2 or words[1] not in ("methods", "params"):
        return None
    print("\n".join(completion.words(socket, words[1], words[2] if len(words) > 2 else None)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    hidden = _complete(sys.argv[1:] if argv is None else argv)
    if hidden is not None:
        return hidden
    args = build_parser().parse_args(argv)
    demo = args.command == "demo"
    socket: Path = args.socket or (paths.demo_socket_path() if demo else paths.socket_path())
    data_dir: Path = args.data_dir or (paths.demo_data_dir() if demo else paths.data_dir())
    if args.command == "call":
        return run_call(socket, args.method, args.params, args.params_json)
    if args.command == "status":
        return run_status(socket)
    if args.command == "stop":
        return run_stop(socket)
    if args.command == "service":
        return service.install(args.print)
    if args.command == "completion":
        print(completion.script(args.shell), end="")
        return 0
    if args.command == "export":
        return run_export(socket, args.format, args.contact, args.since)
    if args.command == "import":
        return run_import(socket, args.file)
    if args.command == "backup":
        return run_backup(socket, args.path)
    return run_tui(socket, data_dir, demo)


if __name__ == "__main__":
    sys.exit(main())
