"""The log flag snippets of `docs/log-flag.md`, tried in the real mail clients.

neomutt and mutt send in batch mode; neomutt's compose macro and aerc (which
has no batch mode) are driven in tmux. Each client keeps its Sent copy in the
Maildir a real `loggbokd` then syncs, and the decisions are read over the
socket. A test skips when its program (or tmux) is not installed: Debian has
them as `neomutt`, `mutt`, `aerc`, `tmux`.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from loggbok.daemon.mime.facts import HeaderFacts
from loggbok.daemon.mime.headers import parse_headers
from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from tests.support.daemons import synced_daemon
from tests.support.mail import deliver, make_maildir, make_message

DOC = Path(__file__).resolve().parents[2] / "docs" / "log-flag.md"
ME = "me@firma.example"
BCC = "log-1234@bcc.loggbok.example"
AERC_BINDS = Path("/usr/share/aerc/binds.conf")
"""aerc's default key bindings, as Debian installs them."""
WAIT = 60.0
"""Seconds to wait for a screen or a file (a loaded machine is slow, never this slow)."""


def snippet(name: str) -> str:
    """The fenced block after `<!-- snippet: NAME -->` in docs/log-flag.md."""
    match = re.search(rf"<!-- snippet: {name} -->\n```[^\n]*\n(.*?)```", DOC.read_text(), re.S)
    assert match is not None, name
    return match.group(1)


def _needs(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)}")


def _sendmail(root: Path) -> Path:
    """A stand-in for sendmail that keeps each message it is given."""
    (root / "outbox").mkdir()
    script = root / "sendmail.sh"
    script.write_text(f'#!/bin/sh\ncat > "{root}/outbox/$(date +%s%N).eml"\n')
    script.chmod(0o755)
    return script


def _muttrc(root: Path, maildir: Path, *extra: str) -> Path:
    muttrc = root / "muttrc"
    lines = [
        f"set folder={maildir}",
        "set mbox_type=Maildir",
        "set spoolfile=+",
        "set record=+.Sent",
        f'set from="Maja Lindqvist <{ME}>"',
        "set use_from=yes",
        f"set sendmail={_sendmail(root)}",
        "set hostname=firma.example",
        *extra,
    ]
    muttrc.write_text("\n".join(lines) + "\n")
    return muttrc


def _sent(maildir: Path) -> dict[str, HeaderFacts]:
    """The Sent copies by subject."""
    found = [parse_headers(p.read_bytes()) for p in (maildir / ".Sent" / "cur").iterdir()]
    return {f.subject: f for f in found}


async def _explain(client: Client, message_id: str) -> t.Explanation:
    return await client.call(m.MESSAGES_EXPLAIN, t.MessageRefParams(message_id=message_id))


def _mutt_batch(program: str, root: Path, maildir: Path) -> None:
    """Two messages in batch mode: one with the default header, one turned off."""
    muttrc = _muttrc(root, maildir, snippet("mutt-default"))
    env = {**os.environ, "HOME": str(root)}
    base = [program, "-n", "-F", str(muttrc)]
    subprocess.run(
        [*base, "-s", "Offer Q3", "--", "anna@kund.example"],
        input=b"Hello Anna,\n", env=env, check=True, timeout=WAIT,
    )  # fmt: skip
    off = ["-e", "unmy_hdr X-Loggbok-Log", "-e", "my_hdr X-Loggbok-Log: no", "-b", BCC]
    subprocess.run(
        [*base, *off, "-s", "Private note", "--", "anna@kund.example"],
        input=b"Not for the CRM.\n", env=env, check=True, timeout=WAIT,
    )  # fmt: skip


@pytest.mark.parametrize("program", ["neomutt", "mutt"])
async def test_mutt_default_header_in_batch_mode(program: str, workdir: Path) -> None:
    _needs(program)
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    await asyncio.to_thread(_mutt_batch, program, workdir, maildir)
    sent = _sent(maildir)
    assert (sent["Offer Q3"].log_flag, sent["Private note"].log_flag) == (True, False)
    assert [a.email for a in sent["Private note"].bcc] == [BCC]

    settings = t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME])
    async with synced_daemon(workdir, maildir, settings) as (client, _, _, _):
        logged = await _explain(client, sent["Offer Q3"].message_id)
        assert (logged.reason, logged.evidence.details["log_flag"]) == ("log_flag", "yes")
        anna = await client.call(m.CONTACTS_LIST, t.ContactsListParams(query="anna@kund"))
        assert [(c.emails, c.source) for c in anna.contacts] == [
            (["anna@kund.example"], "log_flag")
        ]
        off_decision = await _explain(client, sent["Private note"].message_id)
        assert (off_decision.logged, off_decision.reason) == (False, "log_flag_off")


class Tmux:
    """One program in a private tmux server, driven by keys and read from the screen."""

    def __init__(self, root: Path, command: list[str], env: dict[str, str]) -> None:
        self.base = ["tmux", "-L", f"lbtest-{os.getpid()}-{root.name}", "-f", "/dev/null"]
        shell = " ".join(f"{k}={_quote(v)}" for k, v in env.items())
        line = f"env {shell} {' '.join(_quote(c) for c in command)} 2>{root}/stderr.txt"
        subprocess.run([*self.base, "new-session", "-d", "-x", "120", "-y", "40", line], check=True)

    def screen(self) -> str:
        done = subprocess.run([*self.base, "capture-pane", "-p"], capture_output=True, text=True)
        return done.stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.base, "send-keys", *keys], check=True)

    def wait(self, text: str) -> str:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never showed; the screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _wait_for_files(folder: Path, count: int) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if len(list(folder.iterdir())) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"{folder} holds {len(list(folder.iterdir()))} files, not {count}")


@pytest.fixture
def tmux_sessions() -> Iterator[list[Tmux]]:
    sessions: list[Tmux] = []
    yield sessions
    for session in sessions:
        session.close()


def _neomutt_with_macro(root: Path, maildir: Path, tmux_sessions: list[Tmux]) -> None:
    """Compose in neomutt's menu, press `L`, send."""
    muttrc = _muttrc(
        root, maildir, "set editor=true", "set abort_unmodified=no", snippet("mutt-per-message")
    )
    env = {"HOME": str(root), "TERM": "xterm-256color", "PATH": os.environ["PATH"]}
    command = ["neomutt", "-n", "-F", str(muttrc), "-s", "Offer Q3", "anna@kund.example"]
    tmux = Tmux(root, command, env)
    tmux_sessions.append(tmux)
    deadline = time.monotonic() + WAIT
    while "y:Send" not in (screen := tmux.screen()) and time.monotonic() < deadline:
        if re.search(r"^(To|Subject): ", screen.strip().splitlines()[-1] if screen.strip() else ""):
            tmux.keys("Enter")  # the prompts come filled in from the command line
        time.sleep(0.3)
    tmux.wait("y:Send")
    tmux.keys("L")
    tmux.wait("X-Loggbok-Log: yes")
    tmux.keys("y")
    _wait_for_files(maildir / ".Sent" / "cur", 1)


async def test_neomutt_compose_macro(workdir: Path, tmux_sessions: list[Tmux]) -> None:
    _needs("neomutt", "tmux")
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    await asyncio.to_thread(_neomutt_with_macro, workdir, maildir, tmux_sessions)
    sent = _sent(maildir)["Offer Q3"]
    assert sent.log_flag is True

    settings = t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME])
    async with synced_daemon(workdir, maildir, settings) as (client, _, _, _):
        assert (await _explain(client, sent.message_id)).reason == "log_flag"


def _aerc_config(root: Path, maildir: Path) -> dict[str, str]:
    """A private aerc configuration on `maildir` with the snippets of the doc."""
    config = root / "config" / "aerc"
    (config / "templates").mkdir(parents=True)
    accounts = config / "accounts.conf"
    accounts.write_text(
        "[Work]\n"
        f"source = maildirpp://{maildir}\n"
        f"outgoing = {_sendmail(root)}\n"
        f"from = Maja Lindqvist <{ME}>\n"
        "copy-to = Sent\n"
        "default = INBOX\n"
    )
    accounts.chmod(0o600)
    (config / "aerc.conf").write_text("[compose]\neditor = true\n\n" + snippet("aerc-conf"))
    (config / "templates" / "loggbok_new").write_text(snippet("aerc-template"))
    binds = AERC_BINDS.read_text()
    section, _, lines = snippet("aerc-binds").partition("\n")
    assert section in binds
    (config / "binds.conf").write_text(binds.replace(section, f"{section}\n{lines}", 1))
    run = root / "run"
    run.mkdir(mode=0o700)
    return {
        "HOME": str(root),
        "XDG_CONFIG_HOME": str(root / "config"),
        "XDG_RUNTIME_DIR": str(run),
        "XDG_DATA_HOME": str(root / "data"),
        "XDG_CACHE_HOME": str(root / "cache"),
        "TERM": "xterm-256color",
        "PATH": os.environ["PATH"],
    }


def _aerc_reply_and_compose(root: Path, maildir: Path, tmux_sessions: list[Tmux]) -> None:
    """Reply to the one message in INBOX pressing `L`, then compose a new message (the
    template adds the header); both sent."""
    tmux = Tmux(root, ["aerc"], _aerc_config(root, maildir))
    tmux_sessions.append(tmux)
    tmux.wait("Question about the offer")
    tmux.keys(":reply -q", "Enter")
    tmux.wait("Send this email?")
    tmux.keys("L")
    tmux.wait("X-Loggbok-Log: yes")
    tmux.keys("y")
    _wait_for_files(maildir / ".Sent" / "cur", 1)
    tmux.keys(':compose -H "To: bo@kund.example" -H "Subject: Meeting notes"', "Enter")
    tmux.wait("Meeting notes")
    tmux.wait("Send this email?")
    tmux.keys("y")
    _wait_for_files(maildir / ".Sent" / "cur", 2)


async def test_aerc_reply_with_the_binding_and_the_default_template(
    workdir: Path, tmux_sessions: list[Tmux]
) -> None:
    """R7 as a user meets it: an inbound email nobody logged, the user replies in aerc
    with `L`; the reply is logged, the email stays unlogged, the answer is logged."""
    _needs("aerc", "tmux")
    if not AERC_BINDS.exists():  # noqa: ASYNC240 (one stat)
        pytest.skip(f"aerc's default binds.conf is not at {AERC_BINDS}")
    maildir = make_maildir(workdir / "Maildir", ".Sent")
    question = make_message(
        "Anna Berg <anna@kund.example>", [ME], "Question about the offer", "<q1@kund.example>"
    )
    deliver(maildir, question)
    await asyncio.to_thread(_aerc_reply_and_compose, workdir, maildir, tmux_sessions)
    sent = _sent(maildir)
    reply, notes = sent["Re: Question about the offer"], sent["Meeting notes"]
    assert (reply.log_flag, reply.in_reply_to, notes.log_flag) == (True, ("q1@kund.example",), True)

    settings = t.SettingsSetParams(bcc_address=BCC, own_addresses=[ME])
    async with synced_daemon(workdir, maildir, settings) as (client, mailbox_id, _, _):
        logged = await _explain(client, reply.message_id)
        assert (logged.reason, logged.evidence.rule) == ("log_flag", "R7")
        assert (await _explain(client, "<q1@kund.example>")).logged is False
        assert (await _explain(client, notes.message_id)).reason == "log_flag"
        answer = make_message(
            "Anna Berg <anna@kund.example>", [ME], "Re: Question about the offer",
            "<q2@kund.example>", in_reply_to=reply.message_id,
            references=["<q1@kund.example>", reply.message_id],
        )  # fmt: skip
        deliver(maildir, answer)
        await client.call(m.MAILBOXES_SYNC, t.IdParams(id=mailbox_id))
        assert (await _explain(client, "<q2@kund.example>")).reason == "reply_in_tracked_thread"
