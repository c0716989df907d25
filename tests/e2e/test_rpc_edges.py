"""Edge cases of JSON-RPC input that used to be Internal errors (or no answer):
a lone surrogate (`"\\ud800"`, valid JSON, not encodable text) anywhere in the
params is Invalid params on every method; a NaN, infinite or fractional request
id, or a method name or string id holding a surrogate, is an Invalid Request.
Raw lines over the real socket, every method and every field that takes text."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgspec
from msgspec import inspect as mi

from loggbok.protocol import methods as m
from loggbok.protocol.errors import ErrorCode
from tests.conftest import DaemonProcess

HANG_GUARD = 30.0
SURROGATE = '"\\ud800"'
"""As it appears on the wire: JSON's escape for a lone high surrogate."""


def _sample(kind: mi.Type) -> Any:
    """A plausible value of `kind` (the surrogate check must not depend on it)."""
    if isinstance(kind, mi.Metadata):
        return _sample(kind.type)
    if isinstance(kind, mi.IntType):
        return max(kind.ge or 1, 1)
    if isinstance(kind, mi.StrType):
        return "a@b.example"
    if isinstance(kind, mi.BoolType):
        return False
    if isinstance(kind, mi.LiteralType):
        return kind.values[0]
    if isinstance(kind, mi.ListType):
        return [_sample(kind.item_type)]
    if isinstance(kind, mi.UnionType):
        return _sample(next(t for t in kind.types if not isinstance(t, mi.NoneType)))
    raise AssertionError(f"no sample for {kind}")


def _takes_text(kind: mi.Type) -> str | None:
    """The field's value with a surrogate in it, as raw JSON, or None if it takes no text."""
    if isinstance(kind, mi.Metadata):
        return _takes_text(kind.type)
    if isinstance(kind, mi.StrType):
        return SURROGATE
    if isinstance(kind, mi.ListType) and _takes_text(kind.item_type):
        return f"[{SURROGATE}]"
    if isinstance(kind, mi.UnionType):
        return next((v for t in kind.types if (v := _takes_text(t))), None)
    return None


def _variants(params: type) -> list[tuple[mi.StructType, dict[str, Any]]]:
    """The params struct, or each struct of a tagged union with its tag."""
    info = mi.type_info(params)
    if isinstance(info, mi.StructType):
        return [(info, {})]
    assert isinstance(info, mi.UnionType)
    variants = []
    for kind in info.types:
        assert isinstance(kind, mi.StructType) and kind.tag_field is not None
        variants.append((kind, {kind.tag_field: kind.tag}))
    return variants


def _cases() -> list[tuple[str, str, bytes]]:
    cases = []
    for name, method in sorted(m.METHODS.items()):
        for info, tag in _variants(method.params):
            base = {**tag, **{f.encode_name: _sample(f.type) for f in info.fields if f.required}}
            for field in info.fields:
                raw = _takes_text(field.type)
                if raw is None:
                    continue
                params = {k: v for k, v in base.items() if k != field.encode_name}
                body = json.dumps(params)[1:-1]
                joined = f"{body}, " if body else ""
                line = (
                    f'{{"jsonrpc": "2.0", "id": 7, "method": "{name}", '
                    f'"params": {{{joined}"{field.encode_name}": {raw}}}}}\n'
                )
                cases.append((name, f"{tag} {field.encode_name}", line.encode()))
            cases.append(
                (name, f"{tag} a surrogate key", msgspec.json.encode(
                    {"jsonrpc": "2.0", "id": 7, "method": name, "params": base}
                )[:-2] + (b", " if base else b"") + b'"\\udfff": 1}}\n')
            )  # fmt: skip
    return cases


async def _answers(daemon: DaemonProcess, lines: list[bytes]) -> list[Any]:
    """Each line on its own connection, its one answer (a hang or no answer fails)."""
    answers = []
    for line in lines:
        reader, writer = await asyncio.open_unix_connection(str(daemon.socket))
        try:
            writer.write(line)
            await writer.drain()
            raw = await asyncio.wait_for(reader.readline(), HANG_GUARD)
            assert raw, f"no answer to {line!r}"
            answers.append(json.loads(raw))
        finally:
            writer.close()
            await writer.wait_closed()
    return answers


async def test_a_lone_surrogate_in_any_text_param_is_invalid_params(daemon: DaemonProcess) -> None:
    cases = _cases()
    assert len({name for name, _, _ in cases}) == len(m.METHODS)
    answers = await _answers(daemon, [line for _, _, line in cases])
    wrong = {
        (name, field): answer.get("error", answer)
        for (name, field, _), answer in zip(cases, answers, strict=True)
        if answer.get("error", {}).get("code") != ErrorCode.INVALID_PARAMS or answer["id"] != 7
    }
    assert wrong == {}
    assert "surrogate" in answers[0]["error"]["data"]


async def test_a_nul_in_a_text_param_is_invalid_params(daemon: DaemonProcess) -> None:
    """On both stores alike (PostgreSQL's text cannot hold a NUL: a lookup by such an
    id was Internal error there, and Not found on SQLite)."""
    calls = [
        ("messages.get", '{"message_id": "\\u0000"}'),
        ("contacts.create", '{"email": "a\\u0000@b.example"}'),
        ("messages.search", '{"query": "of\\u0000fer"}'),
    ]
    lines = [
        f'{{"jsonrpc": "2.0", "id": 7, "method": "{name}", "params": {params}}}\n'.encode()
        for name, params in calls
    ]
    for line, answer in zip(lines, await _answers(daemon, lines), strict=True):
        assert answer["error"]["code"] == ErrorCode.INVALID_PARAMS, (line, answer)
        assert "NUL" in answer["error"]["data"] and answer["id"] == 7, (line, answer)


async def test_odd_ids_and_surrogate_names_are_invalid_requests(daemon: DaemonProcess) -> None:
    lines = [
        b'{"jsonrpc": "2.0", "id": NaN, "method": "daemon.hello"}\n',
        b'{"jsonrpc": "2.0", "id": Infinity, "method": "daemon.hello"}\n',
        b'{"jsonrpc": "2.0", "id": -Infinity, "method": "daemon.hello"}\n',
        b'{"jsonrpc": "2.0", "id": 1.5, "method": "daemon.hello"}\n',
        b'{"jsonrpc": "2.0", "id": true, "method": "daemon.hello"}\n',
        b'{"jsonrpc": "2.0", "id": "\\ud800", "method": "daemon.hello"}\n',
        b'{"jsonrpc": "2.0", "id": 3, "method": "daemon.\\ud800"}\n',
    ]
    for line, answer in zip(lines, await _answers(daemon, lines), strict=True):
        assert answer["error"]["code"] == ErrorCode.INVALID_REQUEST, (line, answer)
        assert answer["id"] is None, (line, answer)
    ok = await _answers(
        daemon,
        [
            b'{"jsonrpc": "2.0", "id": 2.0, "method": "daemon.hello"}\n',
            b'{"jsonrpc": "2.0", "id": "x\\u00e9", "method": "daemon.hello"}\n',
        ],
    )
    assert [a["id"] for a in ok] == [2, "x\u00e9"] and all("result" in a for a in ok)


async def test_a_batch_answers_each_item_on_its_own(daemon: DaemonProcess) -> None:
    """A bad item in a batch gets its own error; the good ones are answered."""
    line = (
        b'[{"jsonrpc": "2.0", "id": 1, "method": "daemon.hello"},'
        b' {"jsonrpc": "2.0", "id": 2, "method": "contacts.list", "params": {"query": "\\ud800"}},'
        b' {"jsonrpc": "2.0", "id": NaN, "method": "daemon.hello"},'
        b" 5]\n"
    )
    (answer,) = await _answers(daemon, [line])
    assert isinstance(answer, list) and len(answer) == 4
    assert "result" in answer[0] and answer[0]["id"] == 1
    assert answer[1]["error"]["code"] == ErrorCode.INVALID_PARAMS and answer[1]["id"] == 2
    assert [a["error"]["code"] for a in answer[2:]] == [ErrorCode.INVALID_REQUEST] * 2
    (empty,) = await _answers(daemon, [b"[]\n"])
    assert empty["error"]["code"] == ErrorCode.INVALID_REQUEST
