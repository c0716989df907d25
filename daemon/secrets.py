"""Secrets (mailbox passwords, OAuth tokens): the system keyring where a real one
exists, else a JSON file `secrets.json` in the data dir with mode 0600.
Never the database, never a log line."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path

SERVICE = "loggbok"


def mailbox_secret_key(mailbox_id: int) -> str:
    return f"mailbox:{mailbox_id}"


def _usable_keyring() -> object | None:
    try:
        import keyring
        from keyring.backends import chainer, fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not [
        b for b in backend.backends if not isinstance(b, fail.Keyring)
    ]:
        return None
    return backend


class SecretStore:
    def __init__(self, data_dir: Path, *, use_keyring: bool | None = None) -> None:
        self._file = data_dir / "secrets.json"
        self._lock = threading.Lock()
        if use_keyring is None:
            use_keyring = os.environ.get("LOGGBOK_NO_KEYRING") != "1"
        self._keyring = _usable_keyring() if use_keyring else None

    def _read(self) -> dict[str, str]:
        try:
            data = json.loads(self._file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {str(k): str(v) for k, v in data.items()}

    def _write(self, data: dict[str, str]) -> None:
        self._file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = self._file.with_suffix(".tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.chmod(temp, 0o600)
        os.replace(temp, self._file)

    def set(self, key: str, secret: str) -> None:
        if self._keyring is not None:
            self._keyring.set_password(SERVICE, key, secret)  # type: ignore[attr-defined]
            return
        with self._lock:
            data = self._read()
            data[key] = secret
            self._write(data)

    def get(self, key: str) -> str | None:
        if self._keyring is not None:
            value = self._keyring.get_password(SERVICE, key)  # type: ignore[attr-defined]
            return None if value is None else str(value)
        with self._lock:
            return self._read().get(key)

    def delete(self, key: str) -> None:
        if self._keyring is not None:
            # keyring.errors.PasswordDeleteError: nothing was stored under that key
            with contextlib.suppress(Exception):
                self._keyring.delete_password(SERVICE, key)  # type: ignore[attr-defined]
            return
        with self._lock:
            data = self._read()
            if data.pop(key, None) is not None:
                self._write(data)
