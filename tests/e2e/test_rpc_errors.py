"""Bad input over the socket gets the proper JSON-RPC error, and the daemon keeps
serving: invalid JSON, non-UTF-8, unknown methods, wrong params, batches."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import ErrorCode, RpcError
from tests.conftest import DaemonProcess
from tests.support.store_rows import execute


async def _exchange(daemon: DaemonProcess, line: bytes) -> object:

    reader, writer = await asyncio.open_unix_connection(str(daemon.socket))
    try:
        writer.write(line)
        await writer.drain()
        return json.loads(await asyncio.wait_for(reader.readline(), 10))
    finally:
        writer.close()
        await writer.wait_closed()


async def test_invalid_json_and_requests(daemon: DaemonProcess) -> None:
    parse = await _exchange(daemon, b'{"jsonrpc": "2.0", "method": \n')
    assert parse["error"]["code"] == ErrorCode.PARSE_ERROR  # type: ignore[index]
    not_utf8 = await _exchange(daemon, b'{"jsonrpc":"2.0","method":"\xff","id":1}\n')
    assert not_utf8["error"]["code"] == ErrorCode.PARSE_ERROR  # type: ignore[index]
    invalid = await _exchange(daemon, b'{"jsonrpc": "1.0", "id": 3}\n')
    assert invalid["error"]["code"] == ErrorCode.INVALID_REQUEST  # type: ignore[index]
    batch = await _exchange(
        daemon,
        msgspec.json.encode(
            [
                {"jsonrpc": "2.0", "method": "daemon.hello", "id": 1},
                {"jsonrpc": "2.0", "method": "nope", "id": 2},
                {"jsonrpc": "2.0", "method": "settings.get"},
            ]
        )
        + b"\n",
    )
    assert isinstance(batch, list) and len(batch) == 2
    by_id = {r["id"]: r for r in batch}
    assert by_id[1]["result"]["protocol_version"]
    assert by_id[2]["error"]["code"] == ErrorCode.METHOD_NOT_FOUND


async def test_bad_params_and_app_errors(client: Client) -> None:
    for name, params, code in [
        ("no.such.method", {}, ErrorCode.METHOD_NOT_FOUND),
        ("contacts.get", {}, ErrorCode.INVALID_PARAMS),
        ("contacts.get", {"id": "seven"}, ErrorCode.INVALID_PARAMS),
        ("contacts.get", {"id": 1, "typo": 2}, ErrorCode.INVALID_PARAMS),
        ("contacts.get", [1], ErrorCode.INVALID_PARAMS),
        ("settings.set", {"logging_mode": "everything"}, ErrorCode.INVALID_PARAMS),
        ("settings.set", {"bcc_address": "notanaddress"}, ErrorCode.INVALID_PARAMS),
        ("settings.set", {"never_log": ["bad thing"]}, ErrorCode.INVALID_PARAMS),
        ("settings.set", {"body_limit_bytes": -1}, ErrorCode.INVALID_PARAMS),
        ("contacts.import", {"path": "relative.vcf"}, ErrorCode.BAD_INPUT),
        ("contacts.create", {"email": "not an address"}, ErrorCode.INVALID_PARAMS),
        ("contacts.get", {"id": 999}, ErrorCode.NOT_FOUND),
        ("contacts.get", {"id": 2**63}, ErrorCode.INVALID_PARAMS),
        ("timeline.get", {"contact_id": 0}, ErrorCode.INVALID_PARAMS),
        ("contacts.list", {"query": "a" * 100_000}, ErrorCode.INVALID_PARAMS),
        ("messages.explain", {}, ErrorCode.INVALID_PARAMS),
        ("messages.explain", {"message_id": "<nope@x>"}, ErrorCode.NOT_FOUND),
        ("timeline.get", {"contact_id": 1, "before": "garbage"}, ErrorCode.NOT_FOUND),
        (
            "mailboxes.add",
            {"provider": "maildir", "path": "/nonexistent", "address": "a@b.example"},
            ErrorCode.CONNECTION_FAILED,
        ),
        ("messages.search", {"query": '"unbalanced'}, ErrorCode.INVALID_PARAMS),
        ("contacts.import", {"path": "/nonexistent.vcf"}, ErrorCode.BAD_INPUT),
        ("contacts.import", {"path": "/dev/zero"}, ErrorCode.BAD_INPUT),
    ]:
        try:
            await client.call_raw(name, params)
        except RpcError as exc:
            assert exc.code == code, (name, params, exc)
        else:
            raise AssertionError(f"{name} {params} did not fail")
    created = await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email="A@B.example"))
    with pytest.raises(RpcError) as taken:
        await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email="a@b.example"))
    assert taken.value.code == ErrorCode.CONFLICT
    assert (await client.call(m.CONTACTS_GET, t.IdParams(id=created.id))).emails == ["a@b.example"]


HOSTILE: list[object] = [
    None, True, 0, -1, 2**63, -(2**63) - 1, 2**70, 1.5, 1e308, "", "x", "a" * 100_000,
    "\u0000", "../../etc/passwd", "/", [], [1], {}, {"a": 1}, "<x@y>", "@", "2026-13-45",
]  # fmt: skip


async def test_hostile_params_to_every_method_get_a_proper_error(client: Client) -> None:
    """Seeded junk for every field of every method (out-of-range numbers, huge and
    odd strings, wrong types, extra fields): each call is answered, never with
    Internal error (an unhandled exception in the daemon), and the daemon serves on."""
    await client.call(m.CONTACTS_CREATE, t.ContactCreateParams(email="anna@kund.example"))
    rng = random.Random(20261201)
    answered = 0
    for name, method in sorted(m.METHODS.items()):
        variants = m.param_variants(method.params)
        fields = list({f.encode_name: 1 for v in variants for f in msgspec.structs.fields(v)})
        tags = [msgspec.inspect.type_info(v).tag for v in variants if len(variants) > 1]
        for _ in range(40):
            params = {f: rng.choice(HOSTILE) for f in fields if rng.random() < 0.7}
            if tags:  # a tagged union (mailboxes.add): mostly a real variant
                params["provider"] = rng.choice([*tags, *HOSTILE[:3]])
            if rng.random() < 0.1:
                params["unknown_field"] = 1
            try:
                await client.call_raw(name, params)
            except RpcError as exc:
                assert exc.code != ErrorCode.INTERNAL_ERROR, (name, params, exc)
            answered += 1
    assert answered == 40 * len(m.METHODS)
    hello = await client.call(m.HELLO, t.HelloParams())
    assert hello.protocol_version


async def test_socket_is_private_and_single(daemon: DaemonProcess) -> None:
    assert stat.S_IMODE(os.stat(daemon.socket).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(daemon.socket.parent).st_mode) == 0o700
    for data_dir in (daemon.data_dir, daemon.data_dir.with_name("other")):
        second = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "loggbok.daemon.main",
                "--socket",
                str(daemon.socket),
                "--data-dir",
                str(data_dir),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        assert "another loggbokd" in second.stderr
    client = await daemon.client()
    assert (await client.call(m.HELLO)).daemon_version
    await client.close()


async def test_discover_matches_committed_document(client: Client) -> None:
    from loggbok.protocol.openrpc import build

    document = await client.call(m.DISCOVER)
    assert document == json.loads(json.dumps(build()))
    assert {x["name"] for x in document["methods"]} == set(m.METHODS)


async def test_sigterm_and_sigint_shut_down_cleanly(workdir: Path) -> None:
    for number, sig in enumerate((signal.SIGINT, signal.SIGTERM)):
        data = workdir / f"data{number}"
        data.mkdir()
        daemon = DaemonProcess(workdir / f"s{number}.sock", data)
        daemon.start()
        client = await daemon.client()
        assert (await client.call(m.HELLO)).daemon_version
        assert daemon.stop(sig) == 0
        assert not daemon.socket.exists()
        await asyncio.wait_for(client.closed.wait(), 10)
        await client.close()
        log = (data / "loggbokd.log").read_text(encoding="utf-8").splitlines()
        assert json.loads(log[-1])["message"] == "loggbokd stopped"


@pytest.mark.parametrize("kind", ["not a database", "newer schema"])
@pytest.mark.sqlite_only  # damages the SQLite file, sets its PRAGMA user_version
def test_an_unusable_database_is_a_clear_error_and_exit(workdir: Path, kind: str) -> None:
    """A damaged database file, or one from a newer loggbok, ends the daemon at once
    with one line that says what to do (it printed a traceback and then hung: the
    database thread it had opened kept the process alive)."""
    data = workdir / "data"
    data.mkdir()
    database = data / "loggbok.sqlite3"
    if kind == "not a database":
        database.write_bytes(os.urandom(8192))
    else:
        sqlite3.connect(database).execute("PRAGMA user_version = 99").connection.close()
    done = subprocess.run(
        [sys.executable, "-m", "loggbok.daemon.main", "--socket", str(workdir / "d.sock"),
         "--data-dir", str(data)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith(f"loggbokd: the database {database}")
    assert "Traceback" not in done.stderr
    expected = "newer loggbok" if kind == "newer schema" else "damaged or not a loggbok database"
    assert expected in done.stderr
    assert not (workdir / "d.sock").exists()


@pytest.mark.postgres_only
def test_a_postgresql_database_of_a_newer_schema_is_a_clear_error_and_exit(
    workdir: Path,
) -> None:
    """The PostgreSQL side of the test above: a database a newer loggbok migrated."""
    data = workdir / "data"
    data.mkdir()
    execute(data, [("UPDATE schema_version SET version = 99", ())])
    done = subprocess.run(
        [sys.executable, "-m", "loggbok.daemon.main", "--socket", str(workdir / "d.sock"),
         "--data-dir", str(data)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("loggbokd: the database postgresql://")
    assert "newer loggbok" in done.stderr and "Traceback" not in done.stderr
    assert not (workdir / "d.sock").exists()
