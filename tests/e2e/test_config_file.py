"""The config file with a real daemon: read at start, on SIGHUP and when the file
changes; which wins when the socket changed a setting too; mailboxes the file
declares added, reconfigured and removed (and only those), one pointed at another
server or provider replacing the old (R13); a broken file is one
error with its line and changes nothing; a password from `password_command`
reaches Dovecot and nothing else."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.conftest import DaemonProcess
from tests.servers.dovecot import DovecotServer, DovecotUser
from tests.support.mail import make_maildir, make_message

ME = "me@firma.example"
ANNA = "anna@kund.example"
BCC = "log-13@bcc.loggbok.example"


def _config_path(workdir: Path) -> Path:
    return workdir / "config" / "loggbok" / "config.toml"


def _write(path: Path, text: str) -> None:
    """As editors save: a new file renamed over the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(".config.toml.swp")
    temp.write_text(text)
    os.replace(temp, path)


def _maildir_entry(path: Path, address: str = ME) -> str:
    return f'\n[[mailboxes]]\nprovider = "maildir"\naddress = "{address}"\npath = "{path}"\n'


async def _changed(client: Client, timeout: float = 60) -> t.ConfigStatus:
    async with asyncio.timeout(timeout):
        while True:
            name, params = await client.notifications.get()
            if name == m.CONFIG_CHANGED.name:
                assert isinstance(params, t.ConfigStatus)
                return params


async def _start(workdir: Path, text: str | None) -> tuple[DaemonProcess, Client]:
    if text is not None:
        _write(_config_path(workdir), text)
    (workdir / "data").mkdir()
    daemon = DaemonProcess(workdir / "d.sock", workdir / "data")
    daemon.start()
    return daemon, await daemon.client()


async def _mailboxes(client: Client) -> dict[str, t.Mailbox]:
    return {b.path or "": b for b in (await client.call(m.MAILBOXES_LIST)).mailboxes}


def _declared(boxes: dict[str, t.Mailbox]) -> dict[str, tuple[int, str, bool]]:
    return {path: (b.id, b.address, b.managed_by_config) for path, b in boxes.items()}


async def test_sighup_and_file_changes_reload_and_the_file_wins_for_its_keys(
    workdir: Path,
) -> None:
    first, second, own = (make_maildir(workdir / n, ".Sent") for n in ("one", "two", "own"))
    settings = f'[settings]\nown_addresses = ["{ME}"]\ndefault_visibility = "team"\n'
    daemon, client = await _start(workdir, settings + _maildir_entry(first))
    try:
        status = await client.call(m.CONFIG_STATUS)
        assert status.error is None and status.exists
        assert status.settings == ["default_visibility", "own_addresses"]
        boxes = await _mailboxes(client)
        assert boxes[str(first)].managed_by_config and status.mailboxes == [boxes[str(first)].id]
        by_socket = await client.call(
            m.MAILBOXES_ADD, t.MaildirAddParams(path=str(own), address="other@firma.example")
        )
        assert not (await _mailboxes(client))[str(own)].managed_by_config

        # A socket change to a key the file names lasts until the next reload; to
        # another key, it stays.
        changed = await client.call(
            m.SETTINGS_SET,
            t.SettingsSetParams(default_visibility="owner", body_limit_bytes=1000),
        )
        assert changed.default_visibility == "owner"
        daemon.process.send_signal(signal.SIGHUP)  # type: ignore[union-attr]
        await _changed(client)
        now = await client.call(m.SETTINGS_GET)
        assert now.default_visibility == "team" and now.body_limit_bytes == 1000

        # The file changes (no signal): applied. The first mailbox leaves the file
        # and goes; the socket's mailbox stays.
        _write(
            _config_path(workdir),
            settings.replace("team", "everyone") + _maildir_entry(second, "two@firma.example"),
        )
        status = await _changed(client)
        assert status.error is None
        assert (await client.call(m.SETTINGS_GET)).default_visibility == "everyone"
        boxes = await _mailboxes(client)
        assert set(boxes) == {str(second), str(own)}
        assert boxes[str(second)].managed_by_config and status.mailboxes == [boxes[str(second)].id]
        assert boxes[str(own)].id == by_socket.id

        # Declared again under the same address and provider: the same mailbox, adopted
        # (and made a team mailbox, R15, as the file says).
        _write(
            _config_path(workdir),
            settings + _maildir_entry(second, "two@firma.example")
            + _maildir_entry(own, "other@firma.example") + 'kind = "team"\n',
        )  # fmt: skip
        status = await _changed(client)
        assert sorted(status.mailboxes) == sorted([boxes[str(second)].id, by_socket.id])
        adopted = (await _mailboxes(client))[str(own)]
        assert adopted.managed_by_config and adopted.kind == "team"
        assert (await _mailboxes(client))[str(second)].kind == "personal"
        await client.close()
    finally:
        daemon.stop()


async def test_a_broken_file_is_one_error_with_its_line_and_changes_nothing(
    workdir: Path,
) -> None:
    maildir = make_maildir(workdir / "mail", ".Sent")
    good = f'[settings]\nown_addresses = ["{ME}"]\nbody_limit_bytes = 5000\n' + _maildir_entry(
        maildir
    )
    daemon, client = await _start(workdir, good)
    try:
        before = await client.call(m.SETTINGS_GET)
        boxes = _declared(await _mailboxes(client))
        mistakes = [
            (good.replace("5000", "6000").replace('"maildir"', '"maildri"'), 6, "maildri"),
            (good.replace("5000\n", "5000\nown_addresses = 1\n"), 4, "TOML"),
            (good.replace(f'"{ME}"', '"not-an-address"'), 2, "own_addresses"),
        ]
        for text, line, words in mistakes:
            _write(_config_path(workdir), text)
            status = await _changed(client)
            assert status.error is not None and status.error.line == line, status
            assert words in status.error.message
            assert await client.call(m.SETTINGS_GET) == before
            assert _declared(await _mailboxes(client)) == boxes
            assert (await client.call(m.CONFIG_STATUS)).error == status.error
        log = (workdir / "data" / "loggbokd.log").read_text()
        assert "config.toml:2: settings: own_addresses" in log
        _write(_config_path(workdir), good.replace("5000", "7000"))
        assert (await _changed(client)).error is None
        assert (await client.call(m.SETTINGS_GET)).body_limit_bytes == 7000
        await client.close()
    finally:
        daemon.stop()


async def test_a_broken_file_at_start_keeps_the_stored_settings(workdir: Path) -> None:
    (workdir / "data").mkdir()
    daemon = DaemonProcess(workdir / "d.sock", workdir / "data")
    daemon.start()
    client = await daemon.client()
    await client.call(m.SETTINGS_SET, t.SettingsSetParams(body_limit_bytes=1234))
    await client.close()
    daemon.stop()
    _write(_config_path(workdir), "[settings]\nbody_limit_bytes = -1\n")
    daemon.start()
    client = await daemon.client()
    try:
        status = await client.call(m.CONFIG_STATUS)
        assert status.error is not None and status.error.line == 2
        assert (await client.call(m.SETTINGS_GET)).body_limit_bytes == 1234
        await client.close()
    finally:
        daemon.stop()


async def test_password_command_gives_the_password_at_connect_time(
    workdir: Path, dovecot: DovecotServer
) -> None:
    user = dovecot.add_user()
    dovecot.append(user, "INBOX", make_message("anna@kund.example", [ME], "Hej", "<p1@kund>"))
    secret_file = workdir / "pw"
    secret_file.write_text(user.password + "\nsecond line ignored\n")
    text = (
        f'[[mailboxes]]\nprovider = "imap"\naddress = "{ME}"\nhost = "{dovecot.host}"\n'
        f'port = {dovecot.port}\nsecurity = "none"\nusername = "{user.name}"\n'
        f'password_command = "cat {secret_file}"\n'
    )
    daemon, client = await _start(workdir, text)
    try:
        status = await client.call(m.CONFIG_STATUS)
        (mailbox_id,) = status.mailboxes
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox_id))
        (box,) = (await client.call(m.MAILBOXES_LIST)).mailboxes
        assert box.status == "idle", box
        assert sum(f.messages for f in box.folders if f.role == "inbox") == 1
        # A command that fails is an auth failure with its exit status.
        _write(_config_path(workdir), text.replace(f"cat {secret_file}", "exit 3"))
        await _changed(client)
        statuses: list[Any] = []
        async with asyncio.timeout(60):
            while not statuses or statuses[-1].status != "auth_failed":
                (box,) = (await client.call(m.MAILBOXES_LIST)).mailboxes
                statuses.append(box)
                await asyncio.sleep(0.1)
        assert "password_command exited with status 3" in statuses[-1].status_detail
        await client.close()
    finally:
        daemon.stop()
    for stored in (workdir / "data").iterdir():
        if stored.is_file():
            assert user.password.encode() not in stored.read_bytes(), stored


def _imap_entry(server: DovecotServer, user: DovecotUser, secret: Path, provider: str) -> str:
    secret.write_text(user.password)
    return (
        f'\n[[mailboxes]]\nprovider = "{provider}"\naddress = "{ME}"\nhost = "{server.host}"\n'
        f'port = {server.port}\nsecurity = "none"\nusername = "{user.name}"\n'
        f'password_command = "cat {secret}"\n'
    )


async def _idle(client: Client, mailbox_id: int) -> None:
    async with asyncio.timeout(60):
        while True:
            name, params = await client.notifications.get()
            if name == "mailbox.status_changed" and params.id == mailbox_id:
                assert params.status in ("syncing", "idle"), params
                if params.status == "idle":
                    return


async def test_a_mailbox_pointed_at_another_server_or_provider_is_a_replacement(
    workdir: Path, dovecot: DovecotServer
) -> None:
    """R13: the file points the mailbox of an address at another server (the same
    provider: the same mailbox, blind from its last sync until its first round there,
    which reads every folder anew and says what arrived meanwhile), then at another
    provider (a new mailbox that takes over the tracked thread)."""
    thread = ["<o1@firma.example>"]
    offer = make_message(ME, [ANNA], "Offer Q3", thread[0], bcc=[BCC])
    reply1 = make_message(
        ANNA, [ME], "SV: Offer Q3", "<r1@kund.example>", in_reply_to=thread[0], references=thread
    )
    # Dated after the last sync on the old server: it came meanwhile.
    reply2 = make_message(
        ANNA, [ME], "SV: Offer Q3", "<r2@kund.example>", in_reply_to=thread[0],
        references=thread, date=datetime.now(UTC) + timedelta(minutes=1),
    )  # fmt: skip
    settings = f'[settings]\nown_addresses = ["{ME}"]\nbcc_address = "{BCC}"\n'
    old = dovecot.add_user()
    dovecot.append(old, "Sent", offer)
    dovecot.append(old, "INBOX", reply1)
    with DovecotServer() as other:
        new = other.add_user()  # the mailbox moved: what it had, and a reply since
        other.append(new, "INBOX", reply2)
        other.append(new, "INBOX", reply1)
        other.append(new, "Sent", offer)
        text = settings + _imap_entry(dovecot, old, workdir / "pw", "imap")
        daemon, client = await _start(workdir, text)
        try:
            (mailbox_id,) = (await client.call(m.CONFIG_STATUS)).mailboxes
            await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox_id))
            contact = await _anna(client)
            assert contact.blind_threads == 0

            moved = _imap_entry(other, new, workdir / "pw", "imap")
            _write(_config_path(workdir), settings + moved)
            assert (await _changed(client)).mailboxes == [mailbox_id]
            await _idle(client, mailbox_id)
            assert (await _anna(client)).blind_threads == 0
            explained = await client.call(
                m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id="<r2@kund.example>")
            )
            assert explained.logged and "read_late" in explained.evidence.details
            log = (daemon.data_dir / "loggbokd.log").read_text()
            assert "arrived while unavailable" in log and "<r2@kund.example>" in log
            (box,) = (await client.call(m.MAILBOXES_LIST)).mailboxes
            assert box.id == mailbox_id and box.host == other.host and box.port == other.port
            assert sum(f.messages for f in box.folders if f.role == "inbox") == 2

            # Another provider for the same address: the old mailbox goes first, so the
            # new one replaces it and the tracked thread follows (not blind for ever).
            _write(
                _config_path(workdir), settings + _imap_entry(other, new, workdir / "pw", "gmail")
            )
            (replacing,) = (await _changed(client)).mailboxes
            assert replacing != mailbox_id
            await _idle(client, replacing)
            assert (await _anna(client)).blind_threads == 0
            (box,) = (await client.call(m.MAILBOXES_LIST)).mailboxes
            assert (box.id, box.provider) == (replacing, "gmail")
            await client.close()
        finally:
            daemon.stop()


async def _anna(client: Client) -> t.Contact:
    found = await client.call(m.CONTACTS_LIST, t.ContactsListParams(query="anna"))
    return next(c for c in found.contacts if ANNA in c.emails)
