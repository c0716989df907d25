"""Generate the OpenRPC document from the method registry.

The committed copy lives at `protocol/openrpc.json`; a test regenerates it and
fails when it is stale (`python -m loggbok.protocol.openrpc > protocol/openrpc.json`).
"""

from __future__ import annotations

import json
import sys
import typing
from typing import Any

import msgspec

from loggbok.protocol.errors import ERROR_MESSAGES
from loggbok.protocol.methods import METHODS, NOTIFICATIONS
from loggbok.protocol.reasons import REASON_CODES
from loggbok.protocol.version import PROTOCOL_VERSION

_REF_PREFIX = "#/components/schemas/"


def _schema(kind: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    (schema,), components = msgspec.json.schema_components(
        [kind], ref_template=_REF_PREFIX + "{name}"
    )
    schemas.update(components)
    return dict(schema)


def _params_of(params: Any, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    """By-name params of a struct. For a tagged union of structs: the tag first, then
    every variant's fields, required only where every variant requires them, and
    `x-variants` naming the tags of a field that only some variants take."""
    variants = typing.get_args(params) or (params,)
    found: dict[str, list[tuple[str, msgspec.structs.FieldInfo]]] = {}
    for struct in variants:
        tag = str(msgspec.inspect.type_info(struct).tag)  # type: ignore[attr-defined]
        for field in msgspec.structs.fields(struct):
            found.setdefault(field.encode_name, []).append((tag, field))
    result: list[dict[str, Any]] = []
    if len(variants) > 1:
        first = msgspec.inspect.type_info(variants[0])
        tags = [str(msgspec.inspect.type_info(v).tag) for v in variants]  # type: ignore[attr-defined]
        result.append(
            {
                "name": first.tag_field,  # type: ignore[attr-defined]
                "required": True,
                "schema": {"type": "string", "enum": tags},
            }
        )
    for name, fields in found.items():
        entry: dict[str, Any] = {
            "name": name,
            "required": len(fields) == len(variants) and all(f.required for _, f in fields),
            "schema": _schema(fields[0][1].type, schemas),
        }
        if len(fields) < len(variants):
            entry["x-variants"] = [tag for tag, _ in fields]
        result.append(entry)
    return result


def build() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    methods = []
    for method in METHODS.values():
        entry: dict[str, Any] = {
            "name": method.name,
            "summary": method.summary,
            "paramStructure": "by-name",
            "params": _params_of(method.params, schemas),
            "result": {"name": "result", "schema": _schema(method.result, schemas)},
        }
        if typing.get_args(method.params):
            # The exact shape of a tagged union: one variant per tag value.
            entry["x-params-oneOf"] = _schema(method.params, schemas)
        methods.append(entry)
    notifications = []
    for notification in NOTIFICATIONS.values():
        notifications.append(
            {
                "name": notification.name,
                "summary": notification.summary,
                "paramStructure": "by-name",
                "params": _params_of(notification.params, schemas),
            }
        )
    schemas["ReasonCode"] = {
        "title": "ReasonCode",
        "description": "Why a message was (not) logged; carried as a plain string.",
        "type": "string",
        "oneOf": [{"const": code, "description": text} for code, text in REASON_CODES.items()],
    }
    return {
        "openrpc": "1.3.2",
        "info": {"title": "loggbok daemon", "version": PROTOCOL_VERSION},
        "methods": methods,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "errors": {
                code.name: {"code": int(code), "message": message}
                for code, message in ERROR_MESSAGES.items()
            },
        },
        "x-notifications": notifications,
    }


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
