"""Form fields read from a params struct: what a client needs to ask a user for
each field (title, kind, default, hint, choices), so a form follows the
protocol instead of a copy of it. Titles and hints come from the fields'
`msgspec.Meta`; `extra={"secret": True}` marks a field to type hidden,
`extra={"form": False}` one that forms leave out, `extra={"form_last": True}` one
that comes after the others (a field every variant shares, asked for last)."""

from __future__ import annotations

from typing import Any, Literal

from msgspec import inspect as mi

from loggbok.protocol.types import FieldInfo


def _unwrap(kind: mi.Type) -> tuple[mi.Type, list[mi.Metadata]]:
    metas: list[mi.Metadata] = []
    while True:
        if isinstance(kind, mi.Metadata):
            metas.append(kind)
            kind = kind.type
        elif isinstance(kind, mi.UnionType):
            present = [k for k in kind.types if not isinstance(k, mi.NoneType)]
            if len(present) != 1:
                return kind, metas
            kind = present[0]
        else:
            return kind, metas


def form_fields(params: type[Any]) -> list[FieldInfo]:
    """The fields of one params struct, in declaration order."""
    info = mi.type_info(params)
    assert isinstance(info, mi.StructType)
    fields: list[FieldInfo] = []
    last: list[FieldInfo] = []
    for field in info.fields:
        kind, metas = _unwrap(field.type)
        if any((m.extra or {}).get("form") is False for m in metas):
            continue
        into = last if any((m.extra or {}).get("form_last") for m in metas) else fields
        title = next(((m.extra_json_schema or {}).get("title") for m in metas), None)
        hint = next(((m.extra_json_schema or {}).get("description") for m in metas), "")
        secret = any((m.extra or {}).get("secret") for m in metas)
        choices: list[str] = []
        if isinstance(kind, mi.LiteralType):
            choices = [str(v) for v in kind.values]
        form_kind: Literal["text", "secret", "integer", "choice"] = "text"
        if secret:
            form_kind = "secret"
        elif choices:
            form_kind = "choice"
        elif isinstance(kind, mi.IntType):
            form_kind = "integer"
        default = None if field.required else field.default
        into.append(
            FieldInfo(
                name=field.encode_name,
                title=str(title or field.name.replace("_", " ").capitalize()),
                kind=form_kind,
                required=field.required,
                default=default if isinstance(default, (str, int)) else None,
                hint=str(hint or ""),
                choices=choices,
            )
        )
    return fields + last


__all__ = ["form_fields"]
