"""Reading `config.toml` into typed, validated declarations, or one clear error.

    database = "postgresql://loggbok@db.firma.example/loggbok"  # read at start only:
    user = "me@firma.example"     # loggbokd --database / --user (the member it serves)

    [settings]                    # the keys of settings.set, checked the same way
    own_addresses = ["me@firma.example"]

    [[mailboxes]]                 # the fields of mailboxes.add for its provider
    provider = "imap"
    address = "me@firma.example"
    host = "imap.firma.example"
    password_command = "pass show mail"

Everything is checked before anything is used: a file with one mistake is one
`ConfigInvalid` naming the line, and nothing of it is applied. Secrets never go
in the file: a field the provider marks secret (`password`) is refused; the
password comes from `password_command`, the keyring or `mailboxes.sign_in`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

import msgspec

from loggbok.daemon.settings_rules import SettingInvalid, check_settings
from loggbok.protocol import types as t
from loggbok.protocol.forms import form_fields

TOP_LEVEL = ("database", "user", "settings", "mailboxes")
PASSWORD_COMMAND = "password_command"


class ConfigInvalid(ValueError):
    """The file cannot be applied; `line` (1-based) is where the trouble is."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class MailboxEntry:
    params: t.MailboxAddParams
    password_command: str | None
    line: int | None


@dataclass(frozen=True)
class DaemonOptions:
    """The top-level `user` and `database` keys: what `loggbokd --user` and `--database`
    say (the flags win); read when the daemon starts, a change takes a restart."""

    user: str | None = None
    database: str | None = None


@dataclass(frozen=True)
class ConfigFile:
    settings: t.SettingsSetParams = field(default_factory=t.SettingsSetParams)
    settings_keys: tuple[str, ...] = ()
    mailboxes: tuple[MailboxEntry, ...] = ()
    database: str | None = None
    """The store's URL (as `loggbokd --database`); read at start only."""
    user: str | None = None
    """The member this daemon serves (as `loggbokd --user`); read at start only."""


class _Lines:
    """Where tables and keys are in the text (tomllib gives no positions)."""

    _HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\"' -]+?)\s*\]\]?\s*(#.*)?$")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def _headers(self) -> list[tuple[int, str, bool]]:
        found = []
        for number, line in enumerate(self.lines, start=1):
            match = self._HEADER.match(line)
            if match:
                name = match.group(1).strip().strip("\"'")
                found.append((number, name, line.lstrip().startswith("[[")))
        return found

    def table(self, name: str, index: int | None = None) -> int | None:
        """The header line of `[name]`, or of the index-th `[[name]]`."""
        seen = 0
        for number, header, array in self._headers():
            if header != name:
                continue
            if index is None or (array and seen == index):
                return number
            seen += array
        return None

    def key(self, table: str | None, key: str, index: int | None = None) -> int | None:
        """The line of `key = ...` in that table (top level for None), else the table's."""
        start = 0 if table is None else (self.table(table, index) or 0)
        if table is not None and not start:
            return self._anywhere(key)
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number in range(start + 1, len(self.lines) + 1):
            line = self.lines[number - 1]
            if number > start + 0 and self._HEADER.match(line):
                break
            if pattern.match(line):
                return number
        return start or self._anywhere(key)

    def _anywhere(self, key: str) -> int | None:
        pattern = re.compile(rf"\b{re.escape(key)}\b")
        for number, line in enumerate(self.lines, start=1):
            if pattern.search(line):
                return number
        return None


_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_PATH = re.compile(r"at `\$\.(\w+)")
_UNKNOWN = re.compile(r"unknown field `(\w+)`")
_MISSING = re.compile(r"missing required field `(\w+)`")


def _field_of(error: msgspec.ValidationError) -> str | None:
    text = str(error)
    for pattern in (_UNKNOWN, _PATH):
        match = pattern.search(text)
        if match:
            return match.group(1)
    return None


def parse(text: str) -> ConfigFile:
    """The declarations in `text`; ConfigInvalid (with a line) when anything is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _AT_LINE.search(str(exc))
        message = _AT_LINE.sub("", str(exc)).replace("(at end of document)", "").strip()
        line = int(match.group(1)) if match else None
        if "at end of document" in str(exc):
            message += " at the end of the file"
            line = max(1, len(text.splitlines()))
        raise ConfigInvalid(f"not valid TOML: {message}", line) from None
    lines = _Lines(text)
    for name in data:
        if name not in TOP_LEVEL:
            raise ConfigInvalid(
                f"unknown table or key {name!r}"
                " (expected database, user, [settings] and [[mailboxes]])",
                lines.key(None, name),
            )
    start = _start_options(data, lines)
    settings, keys = _settings(data.get("settings", {}), lines)
    raw_boxes = data.get("mailboxes", [])
    if not isinstance(raw_boxes, list):
        raise ConfigInvalid(
            "mailboxes must be an array of tables: [[mailboxes]]", lines.key(None, "mailboxes")
        )
    boxes = tuple(_mailbox(entry, index, lines) for index, entry in enumerate(raw_boxes))
    seen: dict[tuple[str, str], int] = {}
    for index, box in enumerate(boxes):
        key = (_provider_name(box.params), box.params.address.strip().lower())
        if key in seen:
            raise ConfigInvalid(
                f"mailbox {key[1]} ({key[0]}) is declared twice (first at line "
                f"{boxes[seen[key]].line})",
                box.line,
            )
        seen[key] = index
    return ConfigFile(settings, keys, boxes, start.database, start.user)


def daemon_options(text: str) -> DaemonOptions:
    """Only the top-level `user` and `database` of `text` (what `loggbokd` reads before
    it starts): a mistake elsewhere is the config service's to report, and leaves these
    alone; a mistake in them, or a file that cannot be read as TOML but sets one, is
    ConfigInvalid (a daemon must not start as the wrong member)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        if re.search(r"^\s*[\"']?(user|database)[\"']?\s*=", text, re.MULTILINE):
            parse(text)  # raises, with the line
        return DaemonOptions()
    return _start_options(data, _Lines(text))


def _start_options(data: dict[str, Any], lines: _Lines) -> DaemonOptions:
    database = data.get("database")
    if database is not None and (not isinstance(database, str) or not database.strip()):
        raise ConfigInvalid(
            "database must be a URL: sqlite:///path or postgresql://...",
            lines.key(None, "database"),
        )
    user = data.get("user")
    if user is not None and (not isinstance(user, str) or "@" not in user):
        raise ConfigInvalid(f"user {user!r} is not an address", lines.key(None, "user"))
    return DaemonOptions(user=user, database=database)


def _settings(table: Any, lines: _Lines) -> tuple[t.SettingsSetParams, tuple[str, ...]]:
    if not isinstance(table, dict):
        raise ConfigInvalid("settings must be a table: [settings]", lines.key(None, "settings"))
    try:
        params = msgspec.convert(table, t.SettingsSetParams)
    except msgspec.ValidationError as exc:
        name = _field_of(exc)
        line = lines.key("settings", name) if name else lines.table("settings")
        raise ConfigInvalid(f"settings: {_reworded(exc)}", line) from None
    try:
        check_settings(params)
    except SettingInvalid as exc:
        raise ConfigInvalid(f"settings: {exc}", lines.key("settings", exc.setting)) from None
    return params, tuple(table)


def _reworded(exc: msgspec.ValidationError) -> str:
    text = str(exc)
    if (match := _UNKNOWN.search(text)) is not None:
        return f"unknown key {match.group(1)!r}"
    if (match := _MISSING.search(text)) is not None:
        return f"{match.group(1)} is required"
    if (match := _PATH.search(text)) is not None:
        return f"{match.group(1)}: {text.split(' - at ')[0]}"
    return text


def _provider_name(params: t.MailboxAddParams) -> str:
    return str(msgspec.inspect.type_info(type(params)).tag)  # type: ignore[attr-defined]


_VARIANTS = {
    str(msgspec.inspect.type_info(v).tag): v  # type: ignore[attr-defined]
    for v in t.MAILBOX_ADD_VARIANTS
}


def _mailbox(entry: Any, index: int, lines: _Lines) -> MailboxEntry:
    where = lines.table("mailboxes", index)
    if not isinstance(entry, dict):
        raise ConfigInvalid("each [[mailboxes]] entry must be a table", where)
    entry = dict(entry)

    def at(key: str) -> int | None:
        return lines.key("mailboxes", key, index) or where

    provider = entry.get("provider")
    if provider not in _VARIANTS:
        raise ConfigInvalid(
            f"mailbox: provider {provider!r} is not one of {', '.join(_VARIANTS)}",
            at("provider") if provider is not None else where,
        )
    command = entry.pop(PASSWORD_COMMAND, None)
    variant = _VARIANTS[provider]
    fields = {f.name: f for f in form_fields(variant)}
    for name in entry:
        if name in fields and fields[name].kind == "secret":
            raise ConfigInvalid(
                f"mailbox: {name} does not belong in the config file (secrets never do):"
                " use password_command, or store it in the keyring with mailboxes.reconnect",
                at(name),
            )
    if command is not None:
        if not isinstance(command, str) or not command.strip():
            raise ConfigInvalid(
                "mailbox: password_command must be a command line", at(PASSWORD_COMMAND)
            )
        if not any(f.kind == "secret" for f in fields.values()):
            raise ConfigInvalid(
                f"mailbox: password_command: a {provider} mailbox takes no password",
                at(PASSWORD_COMMAND),
            )
    try:
        params = msgspec.convert(entry, t.MailboxAddParams)
    except msgspec.ValidationError as exc:
        name = _field_of(exc)
        raise ConfigInvalid(f"mailbox: {_reworded(exc)}", at(name) if name else where) from None
    if "@" not in params.address:
        raise ConfigInvalid(f"mailbox: address {params.address!r} is not an address", at("address"))
    return MailboxEntry(params, command, where)
