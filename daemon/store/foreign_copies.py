"""A Message-ID already stored as another member's message: the same message, or its own.

The store keeps one message per key (`messages.message_key`, the normalised
Message-ID): one email in two members' mailboxes is one stored message with two
locations, decided once. A Message-ID alone must not decide that: every reply
names the messages it answers, so a member may know the Message-ID of a
colleague's email (hidden, or not arrived yet) and put a message of their own
carrying it in their mailbox. Taken for the colleague's, it would give them a
location on it, so the colleague's email to read (`records.VISIBLE`); stored
first, it would take the key, and the colleague's real email arriving later
would be a location on the forged one (shown with its body, decided by it) or,
refused, lost.

So a message's identity is its Message-ID and its fingerprint: the sender, the
Date to the second, the subject and the To and Cc addresses (`fingerprint`;
what every copy of one email shares, whatever mailbox it was delivered to; Bcc
and trace headers differ between copies). Inside each batch's write
transaction (`rounds.py`), before the plan is written, each incoming message
whose key is stored as another member's message with a different fingerprint
is given a key of its own, `<key> #<fingerprint>` (a normalised Message-ID
holds no space), and the batch is planned again: it is its own message, the
member's, decided by the rules like any other. The same email in a third
member's mailbox computes the same key and finds it: exactly once still. The
first stored message keeps the plain key, whichever came first, so neither
can read, displace or take over the other. A member's own messages that share
a Message-ID stay one message, as before.

`resolve_by_message_id` (`messages.resolve`) finds a Message-ID's messages under
both keys: the viewer's own first, then one in a mailbox of theirs, then the
first stored. Once a Message-ID has a message with a key of its own, every
message of it is listed in `namesakes` under the plain key (`record_namesakes`,
written with the message), and `load_namesakes` reads them for the Message-IDs
a batch of replies names: which one a reply answers is `rules/namesakes.py`'s
rule (the replying mailbox's own first).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Iterable

from loggbok.daemon.mime.msgids import normalise_id
from loggbok.daemon.rules.namesakes import SEPARATOR, Namesake, own_key, plain_key
from loggbok.daemon.rules.planner import Incoming
from loggbok.daemon.store.db import Database, Row, Transaction
from loggbok.daemon.store.records import VISIBLE, recipients

log = logging.getLogger(__name__)

_PAST_HEX = "g"
"""A character after every hex digit (in C order and in linguistic collations)."""


def fingerprint(
    sender: str, date_ts: float, subject: str, to: Iterable[str], cc: Iterable[str]
) -> str:
    """What every copy of one email shares, as 16 hex digits."""
    text = json.dumps(
        [sender.lower(), round(date_ts), subject, sorted({a.lower() for a in to}),
         sorted({a.lower() for a in cc})],
        ensure_ascii=False,
    )  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def incoming_fingerprint(item: Incoming) -> str:
    f = item.facts
    return fingerprint(
        f.from_.email, f.date_ts, f.subject, (a.email for a in f.to), (a.email for a in f.cc)
    )


def stored_fingerprint(row: Row) -> str:
    """The fingerprint of a stored message (`from_email`, `date_ts`, `subject`,
    `recipients`)."""
    stored = recipients(row["recipients"])
    return fingerprint(
        row["from_email"] or "",
        float(row["date_ts"] or 0),
        row["subject"] or "",
        (e for e, _ in stored.to),
        (e for e, _ in stored.cc),
    )


async def record_namesakes(tx: Transaction, messages: Iterable[tuple[str, int]]) -> None:
    """List the (message key, id) of just written messages with a key of their own under
    their Message-ID's plain key, with the message that has the plain key."""
    own = [(plain_key(key), message) for key, message in messages if plain_key(key) != key]
    if not own:
        return
    await tx.executemany(
        "INSERT INTO namesakes (key, message) VALUES (?, ?) ON CONFLICT DO NOTHING", own
    )
    await tx.executemany(
        "INSERT INTO namesakes (key, message) SELECT message_key, id FROM messages"
        " WHERE message_key = ? ON CONFLICT DO NOTHING",
        [(key,) for key in dict.fromkeys(key for key, _ in own)],
    )


async def load_namesakes(
    db: Database | Transaction, keys: Iterable[str]
) -> dict[str, list[Namesake]]:
    """Plain key -> every message of that Message-ID, for those of `keys` that several
    messages share (`rules/namesakes.py` picks which one a reply answers)."""
    rows = await db.fetchall_in(
        "SELECT n.key, m.id, m.message_key, m.owner_id, m.from_email, m.subject_norm"
        " FROM namesakes n JOIN messages m ON m.id = n.message"
        " WHERE n.key IN ({placeholders})",
        (plain_key(k) for k in keys),
    )
    if not rows:
        return {}
    mailboxes: dict[int, set[int]] = {}
    members: dict[int, set[int]] = {int(r[1]): {int(r[3])} for r in rows}
    for row in await db.fetchall_in(
        "SELECT l.message, f.mailbox_id, b.user_id FROM message_locations l"
        " JOIN folders f ON f.id = l.folder_id JOIN mailboxes b ON b.id = f.mailbox_id"
        " WHERE l.message IN ({placeholders})",
        members,
    ):
        mailboxes.setdefault(int(row[0]), set()).add(int(row[1]))
        members[int(row[0])].add(int(row[2]))
    found: dict[str, list[Namesake]] = {}
    for r in rows:
        message = int(r[1])
        found.setdefault(str(r[0]), []).append(
            Namesake(
                str(r[2]),
                message,
                frozenset(mailboxes.get(message, ())),
                frozenset(members[message]),
                str(r[4] or ""),
                str(r[5] or ""),
            )
        )
    return found


def key_range(key: str) -> tuple[str, str]:
    """[low, high): the keys of a Message-ID's messages with a key of their own, as a
    range of the unique index on `message_key` (filter on the prefix as well: in a
    linguistic collation other keys may fall in it)."""
    low = key + SEPARATOR
    return low, low + _PAST_HEX


async def resolve_by_message_id(db: Database, message_id: str, viewer: int) -> Row | None:
    """The row (`id`) of the message of `message_id` that `viewer` may see, under its plain
    key or one of its own; the viewer's own first, then one in a mailbox of theirs."""
    key = normalise_id(message_id)
    low, high = key_range(key)
    row: Row | None = await db.fetchone(
        f"""SELECT m.id FROM messages m
            WHERE (m.message_key = :key OR (m.message_key >= :low
                   AND m.message_key < :high AND substr(m.message_key, 1, :n) = :low))
              AND {VISIBLE}
            ORDER BY CASE WHEN m.owner_id = :viewer THEN 0
              WHEN EXISTS (SELECT 1 FROM message_locations l
                           JOIN folders f ON f.id = l.folder_id
                           JOIN mailboxes b ON b.id = f.mailbox_id
                           WHERE l.message = m.id AND b.user_id = :viewer) THEN 1
              ELSE 2 END, m.id LIMIT 1""",
        {"key": key, "low": low, "high": high, "n": len(low), "viewer": viewer},
    )
    return row


async def rekey_foreign_copies(
    tx: Transaction, batch: list[Incoming], owner: int
) -> list[Incoming] | None:
    """`batch` with each message whose key is another member's different message given
    a key of its own (see the module); None when there is none."""
    keys = sorted({i.facts.message_key for i in batch})
    rows = {
        str(r["message_key"]): r
        for r in await tx.fetchall_in(
            "SELECT message_key, owner_id, from_email, subject, date_ts, recipients"
            " FROM messages WHERE message_key IN ({placeholders})",
            keys,
        )
    }
    changed = False
    out: list[Incoming] = []
    for item in batch:
        row = rows.get(item.facts.message_key)
        if row is None or row["owner_id"] == owner:
            out.append(item)
            continue
        stored = stored_fingerprint(row)
        mine = incoming_fingerprint(item)
        if mine == stored:
            out.append(item)
            continue
        changed = True
        facts = dataclasses.replace(item.facts, message_key=own_key(item.facts.message_key, mine))
        out.append(dataclasses.replace(item, facts=facts))
        log.warning(
            "message %s (%s) in folder %s differs from another member's message with that"
            " Message-ID: stored as a message of its own",
            item.remote_id,
            item.facts.message_id,
            item.folder_id,
        )
    return out if changed else None
