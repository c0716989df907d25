"""Three members on one store, three daemons (`--user`, `--database`), 0 leaks.

Alice (admin) and Bob are in team Sales, Carl in team Support; each syncs their
own Maildir into one store through their own `loggbokd` (one SQLite file, or
the test's PostgreSQL). Their logged
email carries every visibility (a user's default, a mailbox's own, set per
message by its owner), with unlogged mail beside it and one message in two
members' mailboxes. Then every read method of the protocol (enumerated from
`protocol/methods.py`: a method added later fails here until it is given a
call or named a write) is called as each member, for every message id in the
store, and nothing hidden from that member may show: no token of a hidden
message in any answer (attachment and raw bytes decoded) nor in any
notification, and everything visible does show.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import msgspec

from loggbok.protocol import methods as m
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.protocol.errors import ErrorCode, RpcError
from tests.conftest import DaemonProcess
from tests.support.mail import days_ago, deliver, make_maildir, make_message

ANNA = "Anna Berg <anna@kund.example>"
STRANGER = "Sven Okänd <sven@annan.example>"

WRITES = {
    "settings.set",
    "config.reload",
    "mailboxes.add",
    "mailboxes.update",
    "mailboxes.remove",
    "mailboxes.sync",
    "mailboxes.test",
    "mailboxes.reconnect",
    "mailboxes.sign_in",
    "contacts.create",
    "contacts.update",
    "contacts.import",
    "contacts.delete",
    "contacts.merge",
    "messages.log",
    "messages.retry",
    "messages.unlog",
    "messages.set_visibility",
    "archive.import",
    "archive.backup",
    "users.add",
    "users.update",
    "users.deactivate",
    "team_settings.set",
}
"""Methods that change the store or a mailbox: not read here (their refusals for another
member's messages and mailboxes are tested below and in test_team_seats.py)."""


WRITES_BY_ID: dict[str, Callable[[str, Any, int], dict[str, Any]]] = {
    "messages.log": lambda key, value, anna: {key: value, "contact_ids": [anna]},
    "messages.unlog": lambda key, value, anna: {key: value},
    "messages.retry": lambda key, value, anna: {key: value},
    "messages.set_visibility": lambda key, value, anna: {key: value, "visibility": "everyone"},
    "mailboxes.update": lambda key, value, anna: {key: value, "visibility": "everyone"},
    "mailboxes.sync": lambda key, value, anna: {key: value},
    "mailboxes.reconnect": lambda key, value, anna: {key: value, "password": "x"},
    "mailboxes.sign_in": lambda key, value, anna: {key: value},
    "mailboxes.remove": lambda key, value, anna: {key: value},
}
"""Writes that take a message's id (or Message-ID) or a mailbox's: called with a hidden
one and with one that does not exist, they must answer alike."""


@dataclass(frozen=True)
class Mail:
    token: str
    owner: str
    logged: bool
    visibility: str
    holders: frozenset[str] = frozenset()
    """Members whose mailboxes hold it besides its owner."""


@dataclass
class Member:
    email: str
    team: str
    daemon: DaemonProcess
    maildir: Path
    client: Client | None = None
    mailbox: int = 0
    notified: list[Any] = field(default_factory=list)


TEAMS = {"alice": "Sales", "bob": "Sales", "carl": "Support"}

MAILS = [
    Mail("QXALOGEVERY", "alice", True, "everyone"),
    Mail("QXALOGOWNER", "alice", True, "owner"),
    Mail("QXALOGTEAM", "alice", True, "team"),
    Mail("QXAUNLOGGED", "alice", False, "everyone"),
    Mail("QXSHARED", "alice", False, "everyone", frozenset({"carl"})),
    Mail("QXBLOGTEAM", "bob", True, "team"),
    Mail("QXBLOGEVERY", "bob", True, "everyone"),
    Mail("QXBUNLOGGED", "bob", False, "team"),
    Mail("QXCLOGOWNER", "carl", True, "owner"),
    Mail("QXCLOGTEAM", "carl", True, "team"),
    Mail("QXCUNLOGGED", "carl", False, "owner"),
    Mail("QXBREPLY", "bob", False, "team"),
    Mail("QXCLATEST", "carl", True, "owner"),
]
SHARED_DATE = days_ago(9.5)
REPLIES = {"QXBREPLY": "QXALOGOWNER"}
"""Anna's answer (reaching Bob) to a message hidden from him, under a subject of its own:
its explanation must name neither that message's Message-ID nor its subject."""
LATEST = "QXCLATEST"
"""Anna's newest logged email, hidden from all but Carl: her last activity as the others
see it is older (`contacts.get`, `contacts.list`)."""


def visible(mail: Mail, viewer: str) -> bool:
    """The rule, written out independently of the store's SQL."""
    if viewer == mail.owner or viewer in mail.holders:
        return True
    if not mail.logged:
        return False
    return mail.visibility == "everyone" or (
        mail.visibility == "team" and TEAMS[mail.owner] == TEAMS[viewer]
    )


def _address(name: str) -> str:
    return f"{name}@firma.example"


def _message_id(token: str) -> str:
    return f"<{token.lower()}@test.example>"


def _build_maildir(root: Path, name: str) -> Path:
    maildir = make_maildir(root, ".Sent")
    me = f"{name.capitalize()} <{_address(name)}>"
    for number, mail in enumerate(x for x in MAILS if name in {x.owner, *x.holders}):
        body = f"zebra {mail.token}\n"
        attachment = [(f"{mail.token}.txt", "text/plain", mail.token.encode())]
        date = days_ago(1 if mail.token == LATEST else 10 - number * 0.1)
        if mail.holders:
            date = SHARED_DATE  # one message: its copies are alike (`store/foreign_copies.py`)
        if mail.token in REPLIES:
            raw = make_message(
                ANNA,
                [me],
                f"Price {mail.token}",
                _message_id(mail.token),
                in_reply_to=_message_id(REPLIES[mail.token]),
                date=date,
                body=body,
            )
            deliver(maildir, raw)
        elif mail.token == "QXSHARED":
            raw = make_message(
                ANNA,
                [_address("alice"), _address("carl")],
                f"Question {mail.token}",
                _message_id(mail.token),
                date=date,
                body=body,
            )
            deliver(maildir, raw)
        elif mail.logged:
            raw = make_message(
                me,
                [ANNA],
                f"Offer {mail.token}",
                _message_id(mail.token),
                bcc=[f"log-{name}@bcc.example"],
                date=date,
                body=body,
                attachments=attachment,
            )
            deliver(maildir / ".Sent", raw)
        else:
            raw = make_message(
                STRANGER, [me], f"Hej {mail.token}", _message_id(mail.token), date=date, body=body
            )
            deliver(maildir, raw)
    return maildir


def _strings(value: Any, key: str = "") -> Iterator[str]:
    """Every text in an answer, base64 fields decoded too (attachments, raw mail)."""
    if isinstance(value, str):
        yield value
        if key.endswith("base64"):
            try:
                decoded = base64.b64decode(value).decode("latin-1")
            except (binascii.Error, ValueError):
                decoded = ""
            yield decoded
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)


_IN_REPLY_TO = re.compile(r"^in-reply-to:.*$", re.IGNORECASE | re.MULTILINE)


def _tokens(value: Any) -> set[str]:
    """The tokens an answer holds, in any case (a Message-ID is lower-cased). A reply's
    own In-Reply-To header names the message it answers: that is the reply's text."""
    text = _IN_REPLY_TO.sub("", "\n".join(_strings(value))).upper()
    return {mail.token for mail in MAILS if mail.token in text}


Recipe = Callable[[dict[str, Any]], list[dict[str, Any]]]
"""The params to call a read method with, given what the test knows (`ids`: every
message id in the store; `mailboxes`: every mailbox id; `anna`: the contact)."""


def _by_id(ids: list[int]) -> list[dict[str, Any]]:
    return [{"id": i} for i in ids]


READS: dict[str, Recipe] = {
    "daemon.hello": lambda k: [{}],
    "rpc.discover": lambda k: [{}],
    "settings.get": lambda k: [{}],
    "config.status": lambda k: [{}],
    "mailboxes.providers": lambda k: [{}],
    "mailboxes.list": lambda k: [{}],
    "mailboxes.audit": lambda k: _by_id(k["mailboxes"]),
    "contacts.get": lambda k: [{"id": k["anna"]}],
    "contacts.list": lambda k: [{}, {"query": "anna"}],
    "timeline.get": lambda k: [
        {"contact_id": k["anna"], "limit": 500},
        {"contact_id": k["anna"], "limit": 2},
    ],
    "messages.get": lambda k: _by_id(k["ids"]) + [{"message_id": i} for i in k["message_ids"]],
    "messages.headers": lambda k: _by_id(k["ids"]) + [{"message_id": i} for i in k["message_ids"]],
    "messages.explain": lambda k: _by_id(k["ids"]) + [{"message_id": i} for i in k["message_ids"]],
    "messages.search": lambda k: (
        [{"query": "zebra", "limit": 500}, {"query": "zebra", "limit": 2}]
        + [{"query": mail.token} for mail in MAILS]
    ),
    "messages.list": lambda k: [
        {"limit": 500},
        {"limit": 2},
        {"logged": False, "limit": 500},
        {"logged": True, "limit": 500},
        *({"mailbox_id": b, "limit": 500} for b in k["mailboxes"]),
    ],
    "messages.redecide": lambda k: [
        {"dry_run": True},
        *({"dry_run": True, "ids": [i]} for i in k["ids"]),
    ],
    "attachments.get": lambda k: [{"id": i, "index": 0} for i in k["ids"]],
    "archive.export": lambda k: [{"limit": 200}, {"limit": 200, "raw": True}],
    "users.me": lambda k: [{}],
    "users.list": lambda k: [{}],
    "team_settings.get": lambda k: [{}],
    "conversations.list": lambda k: [{"mailbox_id": b, "limit": 500} for b in k["mailboxes"]],
    "conversations.get": lambda k: _by_id(list(range(1, 2 * len(k["ids"]) + 1))),
}


def _id_kind(method: str, key: str) -> str | None:
    """What a param names: a message (its store id), a Message-ID, a mailbox; None
    for anything else (a conversation's id is a thread's)."""
    if key == "message_id":
        return "message_id"
    if key == "mailbox_id" or (key == "id" and method.startswith("mailboxes.")):
        return "mailbox"
    if key in ("id", "ids") and not method.startswith("conversations."):
        return "message"
    return None


async def _answer(client: Client, method: str, params: dict[str, Any], given: Any) -> Any:
    """A call's answer or error, the id it was given masked (echoed back is no leak)."""
    try:
        answer = await client.call_raw(method, params)
    except RpcError as exc:
        answer = {"error": exc.code, "message": exc.message, "data": exc.data}
    return _masked(msgspec.to_builtins(answer), given)


def _masked(value: Any, given: Any) -> Any:
    if isinstance(value, dict):
        return {k: _masked(v, given) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, given) for v in value]
    if value == given and not isinstance(value, bool):
        return "<given>"
    if isinstance(value, str) and isinstance(given, str) and given in value:
        return value.replace(given, "<given>")
    if isinstance(value, str) and isinstance(given, int):  # "mailbox 7 is ...", not a date
        return re.sub(rf"(?<![\w:+.-]){given}(?![\w:+.-])", "<given>", value)
    return value


def test_every_method_is_a_read_or_a_write() -> None:
    """A new method fails here until it is given a call above or named a write."""
    assert set(READS) | WRITES == set(m.METHODS), (
        f"classify: {sorted(set(m.METHODS) - set(READS) - WRITES)};"
        f" gone: {sorted((set(READS) | WRITES) - set(m.METHODS))}"
    )
    assert not set(READS) & WRITES


async def _start(workdir: Path, name: str, database: str) -> Member:
    (workdir / name).mkdir()
    daemon = DaemonProcess(
        workdir / f"{name}.sock",
        workdir / name,
        args=["--user", _address(name), "--database", database],
    )
    daemon.start()
    member = Member(
        _address(name), TEAMS[name], daemon, _build_maildir(workdir / f"{name}-mail", name)
    )
    member.client = await daemon.client()
    member.client.subscribe(lambda n, p: member.notified.append(msgspec.to_builtins(p)))
    return member


async def test_three_members_see_only_what_visibility_allows(workdir: Path) -> None:
    (workdir / "shared").mkdir()
    database = os.environ.get("LOGGBOK_DATABASE") or f"sqlite://{workdir}/shared/team.db"
    members: dict[str, Member] = {}
    try:
        members["alice"] = alice = await _start(workdir, "alice", database)
        assert alice.client is not None
        hello = await alice.client.call(m.HELLO, t.HelloParams(client="tests"))
        assert "users" in hello.capabilities
        me = await alice.client.call(m.USERS_ME)
        assert (me.email, me.admin, me.id) == (_address("alice"), True, 1)  # the first user
        await alice.client.call(m.USERS_UPDATE, t.UsersUpdateParams(id=me.id, team="Sales"))
        await alice.client.call(
            m.USERS_ADD, t.UsersAddParams(email=_address("bob"), seat="sales", team="Sales")
        )
        await alice.client.call(
            m.USERS_ADD, t.UsersAddParams(email=_address("carl"), seat="service", team="Support")
        )
        members["bob"] = await _start(workdir, "bob", database)
        members["carl"] = await _start(workdir, "carl", database)
        anna = await alice.client.call(
            m.CONTACTS_CREATE, t.ContactCreateParams(email="anna@kund.example", name="Anna")
        )
        defaults = {"alice": "everyone", "bob": "team", "carl": "everyone"}
        for name, member in members.items():  # alice first: she owns the shared message
            assert member.client is not None
            await member.client.call(
                m.SETTINGS_SET,
                t.SettingsSetParams(
                    bcc_address=f"log-{name}@bcc.example",
                    own_addresses=[member.email],
                    default_visibility=defaults[name],  # type: ignore[arg-type]
                ),
            )
            added = await member.client.call(
                m.MAILBOXES_ADD,
                t.MaildirAddParams(
                    path=str(member.maildir),
                    address=member.email,
                    visibility="owner" if name == "carl" else None,
                ),
            )
            member.mailbox = added.id
            result = await member.client.call(m.MAILBOXES_SYNC, t.IdParams(id=added.id))
            assert result.errors == 0
        # Per message, by its owner: alice narrows two, bob widens one, carl one to his team.
        changes = [
            ("alice", "QXALOGOWNER", "owner"),
            ("alice", "QXALOGTEAM", "team"),
            ("bob", "QXBLOGEVERY", "everyone"),
            ("bob", "QXBUNLOGGED", "team"),
            ("carl", "QXCLOGTEAM", "team"),
        ]
        for name, token, visibility in changes:
            client = members[name].client
            assert client is not None
            done = await client.call(
                m.MESSAGES_SET_VISIBILITY,
                t.MessagesSetVisibilityParams(
                    message_id=_message_id(token),
                    visibility=visibility,  # type: ignore[arg-type]
                ),
            )
            assert done.visibility == visibility

        # Every message id in the store and every mailbox, as the owner of each sees it.
        ids: dict[str, int] = {}
        for mail in MAILS:
            client = members[mail.owner].client
            assert client is not None
            got = await client.call(
                m.MESSAGES_GET, t.MessageRefParams(message_id=_message_id(mail.token))
            )
            ids[mail.token] = got.id
            assert got.logged == mail.logged, mail.token
            assert got.visibility == mail.visibility or not mail.logged, mail.token
        known = {
            "ids": sorted(ids.values()),
            "message_ids": [_message_id(mail.token) for mail in MAILS],
            "mailboxes": sorted(member.mailbox for member in members.values()),
            "anna": anna.id,
        }

        calls = 0
        answered: dict[str, dict[str, Any]] = {}
        for name, member in members.items():
            assert member.client is not None
            hidden = {mail.token for mail in MAILS if not visible(mail, name)}
            seen: set[str] = set()
            answered[name] = {}
            for method in sorted(READS):
                for params in READS[method](known):
                    calls += 1
                    try:
                        answer = await member.client.call_raw(method, params)
                    except RpcError as exc:
                        assert exc.code != ErrorCode.INTERNAL_ERROR, (name, method, params, exc)
                        data = exc.data  # what the caller gave, echoed back, is no leak
                        if isinstance(data, dict):
                            data = {k: v for k, v in data.items() if v not in params.values()}
                        answer = {"error": exc.message, "data": data}
                    leaked = _tokens(answer) & hidden
                    assert not leaked, f"{name} sees {leaked} through {method} {params}"
                    seen |= _tokens(answer)
                    answered[name][_call_key(method, params)] = answer
            assert seen == {mail.token for mail in MAILS if visible(mail, name)}, name
            # Asked by an id (message, Message-ID, mailbox) hidden from the member, every
            # method answers as it does for an id that does not exist: same code,
            # message and data, a list as empty.
            hidden_ids = [ids[x.token] for x in MAILS if x.token in hidden]
            boxes = [b.mailbox for n, b in members.items() if n != name]
            others = {
                "message": hidden_ids,
                "message_id": [_message_id(token) for token in hidden],
                "mailbox": boxes,
            }
            ghosts = {"message": 10**9, "message_id": "<ghost@test.example>", "mailbox": 10**9}
            compared = 0
            for method in sorted(READS):
                for params in READS[method](known):
                    for key, value in params.items():
                        kind = _id_kind(method, key)
                        one = value[0] if isinstance(value, list) and len(value) == 1 else value
                        if kind is None or one not in others[kind]:
                            continue
                        compared += 1
                        answers = []
                        for given in (one, ghosts[kind]):
                            told = [given] if isinstance(value, list) else given
                            answers.append(
                                await _answer(member.client, method, {**params, key: told}, given)
                            )
                        assert answers[0] == answers[1], (name, method, params, answers)
            assert compared, name
            # And so does every write that takes such an id (refused alike, nothing done).
            for method, make in WRITES_BY_ID.items():
                kind = "mailbox" if method.startswith("mailboxes.") else "message"
                keys = ["id"] if kind == "mailbox" else ["id", "message_id"]
                for key in keys:
                    for value in others["message_id" if key == "message_id" else kind]:
                        ghost = ghosts["message_id" if key == "message_id" else kind]
                        answers = [
                            await _answer(member.client, method, make(key, given, anna.id), given)
                            for given in (value, ghost)
                        ]
                        assert answers[0] == answers[1], (name, method, value, answers)
                        assert "error" in answers[0], (name, method, value, answers)
            # What each list gives is exactly what the member may see.
            listed = await member.client.call(m.MESSAGES_LIST, t.MessagesListParams(limit=500))
            assert _tokens(msgspec.to_builtins(listed)) == seen, name
            hits = await member.client.call(
                m.MESSAGES_SEARCH, t.MessagesSearchParams(query="zebra", limit=500)
            )
            logged_seen = {mail.token for mail in MAILS if mail.logged and visible(mail, name)}
            assert _tokens(msgspec.to_builtins(hits)) == logged_seen, name
            page = await member.client.call(
                m.TIMELINE_GET, t.TimelineGetParams(contact_id=anna.id, limit=500)
            )
            assert _tokens(msgspec.to_builtins(page)) == logged_seen, name
            # Anna's last activity is that of the newest email of hers the member sees.
            newest = page.entries[0].date if page.entries else None
            contact = await member.client.call(m.CONTACTS_GET, t.IdParams(id=anna.id))
            assert contact.last_activity == newest, name
            listed_anna = await member.client.call(
                m.CONTACTS_LIST, t.ContactsListParams(query="anna")
            )
            assert [c.last_activity for c in listed_anna.contacts] == [newest], name
            # Another member's message: not theirs to log, unlog or fetch again (an
            # admin's it is: alice, at the end); a hidden one is not found.
            for mail in MAILS if name != "alice" else []:
                if mail.owner == name:
                    continue
                for method, ref in [
                    ("messages.unlog", {"id": ids[mail.token]}),
                    ("messages.log", {"id": ids[mail.token], "contact_ids": [anna.id]}),
                    ("messages.retry", {"id": ids[mail.token]}),
                ]:
                    try:
                        await member.client.call_raw(method, ref)
                    except RpcError as exc:
                        want = ErrorCode.FORBIDDEN if visible(mail, name) else ErrorCode.NOT_FOUND
                        assert exc.code == want, (name, method, mail.token, exc)
                        if want == ErrorCode.FORBIDDEN:
                            assert exc.data["reason"] == "not_owner"
                    else:
                        raise AssertionError(f"{name} could {method} {mail.token}")
            # A hidden message is not found; a visible one of another member is not theirs
            # to restrict.
            for mail in MAILS:
                ref = {"id": ids[mail.token], "visibility": "everyone"}
                if mail.owner == name:
                    continue
                try:
                    await member.client.call_raw("messages.set_visibility", ref)
                except RpcError as exc:
                    want = ErrorCode.FORBIDDEN if visible(mail, name) else ErrorCode.NOT_FOUND
                    assert exc.code == want, (name, mail.token, exc)
                else:
                    raise AssertionError(f"{name} changed {mail.token}'s visibility")
            boxes = await member.client.call(m.MAILBOXES_LIST)
            assert [b.id for b in boxes.mailboxes] == [member.mailbox], name
            # Told only of what they could see when it was logged or can see now (on
            # PostgreSQL each daemon relays the others' new entries as they come).
            at_first = {
                mail.token
                for mail in MAILS
                if not visible(_as_logged(mail, defaults, {token for _, token, _ in changes}), name)
            }
            leaked = _tokens(member.notified) & hidden & at_first
            assert not leaked, f"{name} was told of {leaked}"
        assert calls > 3 * len(READS)
        await _more_hidden_mail_changes_no_answer(members, known, answered)
        await _importing_hidden_mail_answers_as_for_absent_mail(members, anna.id)
        # No member connects another's address (and so reads their mail), nor makes a
        # team mailbox but an admin.
        bob, carl = members["bob"], members["carl"]
        assert bob.client is not None and carl.client is not None
        try:
            await carl.client.call(
                m.MAILBOXES_ADD, t.MaildirAddParams(path=str(alice.maildir), address=alice.email)
            )
        except RpcError as exc:
            assert (exc.code, exc.data["reason"]) == (ErrorCode.FORBIDDEN, "address_taken")
        else:
            raise AssertionError("carl connected alice's address")
        for attempt in (
            bob.client.call(m.MAILBOXES_UPDATE, t.MailboxUpdateParams(id=bob.mailbox, kind="team")),
            bob.client.call(
                m.MAILBOXES_ADD,
                t.MaildirAddParams(
                    path=str(bob.maildir), address="help@firma.example", kind="team"
                ),
            ),
        ):
            try:
                await attempt
            except RpcError as exc:
                assert exc.code == ErrorCode.ADMIN_REQUIRED
            else:
                raise AssertionError("bob made a team mailbox")
        # An admin may take a colleague's message off timelines.
        done = await alice.client.call_raw("messages.unlog", {"id": ids["QXBLOGEVERY"]})
        assert done["removed"] == [anna.id]
    finally:
        for member in members.values():
            if member.client is not None:
                await member.client.close()
            if member.daemon.process is not None:
                member.daemon.stop()


UNSTEADY = {"contacts.list", "daemon.hello", "config.status", "mailboxes.list", "mailboxes.audit"}
"""Reads whose answers move with every member's activity (`contacts.list`'s order, on
purpose: docs/team.md) or with time (status, sync times): not compared below."""


def _steady(answer: Any) -> Any:
    """An answer without what changes from call to call by itself: a rebuilt message's
    bytes (`archive.export` with `raw`: a new MIME boundary each time)."""
    answer = msgspec.to_builtins(answer)
    if isinstance(answer, dict) and isinstance(answer.get("messages"), list):
        answer = {
            **answer,
            "messages": [
                {
                    k: v
                    for k, v in x.items()
                    if not (k == "raw_base64" and x.get("raw_source") == "rebuilt")
                }
                if isinstance(x, dict)
                else x
                for x in answer["messages"]
            ],
        }
    return answer


def _call_key(method: str, params: dict[str, Any]) -> str:
    return method + " " + msgspec.json.encode(params).decode()


async def _more_hidden_mail_changes_no_answer(
    members: dict[str, Member], known: dict[str, Any], answered: dict[str, dict[str, Any]]
) -> None:
    """Alice logs more mail only she may see (a new thread and a reply in a thread the
    others see, all saying "zebra"): no read Bob or Carl makes answers otherwise, not
    an order, a count, a cursor nor an error (hidden mail must not show, even by its
    effect on what does)."""
    alice = members["alice"]
    assert alice.client is not None
    await alice.client.call(
        m.MAILBOXES_UPDATE, t.MailboxUpdateParams(id=alice.mailbox, visibility="owner")
    )
    me = f"Alice <{alice.email}>"
    for n in range(3):
        deliver(
            alice.maildir / ".Sent",
            make_message(
                me, [ANNA], f"Offer QXAMORE{n} zebra", f"<qxamore{n}@test.example>",
                bcc=["log-alice@bcc.example"], date=days_ago(0.5 - n * 0.1),
                body=f"zebra zebra QXAMORE{n}\n",
                in_reply_to=_message_id("QXALOGEVERY") if n == 0 else None,
            ),
        )  # fmt: skip
    result = await alice.client.call(m.MAILBOXES_SYNC, t.IdParams(id=alice.mailbox))
    assert result.errors == 0  # (the daemon may have read them already, as they came)
    for n in range(3):
        got = await alice.client.call(
            m.MESSAGES_GET, t.MessageRefParams(message_id=f"<qxamore{n}@test.example>")
        )
        assert (got.logged, got.visibility) == (True, "owner"), n
    for name in ("bob", "carl"):
        client = members[name].client
        assert client is not None
        for method in sorted(set(READS) - UNSTEADY):
            for params in READS[method](known):
                try:
                    answer = await client.call_raw(method, params)
                except RpcError as exc:
                    data = exc.data
                    if isinstance(data, dict):
                        data = {k: v for k, v in data.items() if v not in params.values()}
                    answer = {"error": exc.message, "data": data}
                before = answered[name][_call_key(method, params)]
                assert _steady(answer) == _steady(before), (name, method, params)


async def _importing_hidden_mail_answers_as_for_absent_mail(
    members: dict[str, Member], anna: int
) -> None:
    """Bob and Carl import (`archive.import`) an archived copy of each logged message
    hidden from them (the same Message-ID, sender, Date, subject and recipients, as its
    owner exports it): each answer, and a second import's, is exactly what importing a
    message the store does not hold answers; the hidden message stays hidden."""
    exported: dict[str, t.ArchiveMessage] = {}
    for name, member in members.items():
        assert member.client is not None
        page = await member.client.call(m.ARCHIVE_EXPORT, t.ArchiveExportParams(limit=200))
        owned = {_message_id(x.token): x.token for x in MAILS if x.owner == name}
        exported |= {owned[x.message_id]: x for x in page.messages if x.message_id in owned}
    card = t.ArchiveContact(id=anna, name="Anna", emails=["anna@kund.example"])
    compared = 0
    for name in ("bob", "carl"):
        client = members[name].client
        assert client is not None
        for mail in MAILS:
            if visible(mail, name) or mail.token not in exported:
                continue
            ghost = f"<ghost-{mail.token.lower()}-{name}@test.example>"
            answers = []
            for message_id in (_message_id(mail.token), ghost):
                message = msgspec.structs.replace(
                    exported[mail.token],
                    message_id=message_id,
                    raw_base64=None,
                    entries=[t.ArchiveEntry(contact_id=anna, reason="manual")],
                )
                params = t.ArchiveImportParams(contacts=[card], messages=[message])
                answers.append(
                    [msgspec.to_builtins(await client.call(m.ARCHIVE_IMPORT, params)) for _ in "12"]
                )
            assert answers[0] == answers[1], (name, mail.token, answers)
            try:
                await client.call(
                    m.MESSAGES_GET, t.MessageRefParams(message_id=_message_id(mail.token))
                )
            except RpcError as exc:
                assert exc.code == ErrorCode.NOT_FOUND
            else:
                raise AssertionError(f"{name} sees {mail.token} after importing it")
            compared += 1
    assert compared >= 4


def _as_logged(mail: Mail, defaults: dict[str, str], changed: set[str]) -> Mail:
    """The mail with the visibility it was logged with, before its owner changed it:
    the owner's default, carl's mailbox `owner`."""
    if mail.token not in changed:
        return mail
    first = "owner" if mail.owner == "carl" else defaults[mail.owner]
    return replace(mail, visibility=first)


def test_visibility_rule_covers_every_kind() -> None:
    """The test's own data holds each case the rule tells apart."""
    pairs = list(itertools.product(MAILS, TEAMS))
    assert any(visible(mail, v) and mail.owner != v and not mail.holders for mail, v in pairs)
    assert any(not visible(mail, v) and mail.logged for mail, v in pairs)
    assert any(v in mail.holders for mail, v in pairs)
    assert {mail.visibility for mail in MAILS if mail.logged} == {"everyone", "team", "owner"}
