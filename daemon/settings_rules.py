"""What a valid setting is: the one check `settings.set` and the config file share.

`check_settings` raises `SettingInvalid(setting, why)`; the RPC handler turns it
into Invalid params, the config file into an error on that key's line.
"""

from __future__ import annotations

from loggbok.daemon.contacts_import import normalise_email as addr_spec
from loggbok.protocol import types as t


class SettingInvalid(ValueError):
    def __init__(self, setting: str, why: str) -> None:
        super().__init__(f"{setting} {why}")
        self.setting = setting
        self.why = why


def _is_address(value: str) -> bool:
    return addr_spec(value) is not None


def _is_domain(value: str) -> bool:
    return value.startswith("@") and addr_spec("x" + value) is not None


def check_settings(params: t.SettingsSetParams) -> None:
    for name in ("bcc_address", "forwarding_address"):
        value = getattr(params, name)
        if isinstance(value, str) and value.strip() and not _is_address(value):
            raise SettingInvalid(name, f"{value!r} is not an email address")
    if isinstance(params.own_addresses, list):
        for value in params.own_addresses:
            if not _is_address(value):
                raise SettingInvalid("own_addresses", f"{value!r} is not an email address")
    if isinstance(params.never_log, list):
        check_never_log(params.never_log)
    if isinstance(params.excluded_folders, list):
        _check_folder_patterns(params.excluded_folders)
    for name in ("attachment_limit_bytes", "body_limit_bytes"):
        value = getattr(params, name)
        if isinstance(value, int) and value < 0:
            raise SettingInvalid(name, "must be >= 0")


def check_never_log(values: list[str], setting: str = "never_log") -> None:
    """A never-log list (the user's own or the team's, R16): addresses and @domains."""
    for value in values:
        if not (_is_address(value) or _is_domain(value.strip())):
            raise SettingInvalid(setting, f"{value!r} is neither an address nor an @domain")


MAX_EXCLUDED = 500
"""Folder exclusions at most (each round matches every folder against each)."""


def _check_folder_patterns(patterns: list[str]) -> None:
    if len(patterns) > MAX_EXCLUDED:
        raise SettingInvalid("excluded_folders", f"has more than {MAX_EXCLUDED} entries")
    for value in patterns:
        cleaned = value.strip().strip("/").strip()
        if not cleaned or len(cleaned) > 1000:
            raise SettingInvalid("excluded_folders", f"{value!r} is not a folder name or pattern")
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in cleaned):
            raise SettingInvalid("excluded_folders", f"{value!r} holds a control character")
        if cleaned.casefold() == "inbox":
            raise SettingInvalid("excluded_folders", "cannot exclude INBOX (it is always synced)")
