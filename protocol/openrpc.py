"""Generate the OpenRPC document from the method registry.

The committed copy lives at `protocol/openrpc.json`; a test regenerates it and
fails when it is stale (`python -m loggbok.protocol.openrpc > protocol/openrpc.json`).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import msgspec

from loggbok.protocol.methods import METHODS, NOTIFICATIONS
from loggbok.protocol.version import PROTOCOL_VERSION

_REF_PREFIX = "#/components/schemas/"


def _params_of(struct: type[Any], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    params = []
    for field in msgspec.structs.fields(struct):
        (schema,), components = msgspec.json.schema_components(
            [field.type], ref_template=_REF_PREFIX + "{name}"
        )
        schemas.update(components)
        params.append({"name": field.encode_name, "required": field.required, "schema": schema})
    return params


def build() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    methods = []
    for method in METHODS.values():
        (result_schema,), components = msgspec.json.schema_components(
            [method.result], ref_template=_REF_PREFIX + "{name}"
        )
        schemas.update(components)
        methods.append(
            {
                "name": method.name,
                "summary": method.summary,
                "paramStructure": "by-name",
                "params": _params_of(method.params, schemas),
                "result": {"name": "result", "schema": result_schema},
            }
        )
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
    return {
        "openrpc": "1.3.2",
        "info": {"title": "loggbok daemon", "version": PROTOCOL_VERSION},
        "methods": methods,
        "components": {"schemas": dict(sorted(schemas.items()))},
        "x-notifications": notifications,
    }


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
