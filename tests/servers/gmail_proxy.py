"""An IMAP proxy in front of a real Dovecot that speaks Gmail's IMAP extensions.

Gmail documents X-GM-EXT-1 (https://developers.google.com/gmail/imap/imap-extensions):
the capability, and the FETCH items X-GM-MSGID (a message's unique id),
X-GM-THRID (its conversation's id) and X-GM-LABELS (its labels, `\\\\Inbox`,
`\\\\Sent`, `\\\\Draft` and the user's own). Dovecot has none of it, so
`GmailProxy` passes every byte between a real IMAP client and a real Dovecot
and only:

  - adds X-GM-EXT-1 to every CAPABILITY list (the untagged response and the
    `[CAPABILITY ...]` code);
  - strips X-GM-* items from FETCH commands before Dovecot sees them, and adds
    them to the FETCH responses of the All Mail folder, derived from the real
    data: a message's labels are the other Dovecot folders that hold a message
    with its Message-ID (INBOX as `\\\\Inbox`, the Sent folder as `\\\\Sent`,
    the Drafts folder as `\\\\Draft`), its X-GM-MSGID a hash of its Message-ID
    and its X-GM-THRID a hash of its thread's first Message-ID.

So a test lays the mailbox out as Gmail shows it (every message in
`[Gmail]/All Mail`, and a copy in each folder that stands for one of its
labels) and the client under test talks real IMAP to a real server.
"""

from __future__ import annotations

import contextlib
import email
import hashlib
import imaplib
import re
import socket
import threading
from dataclasses import dataclass, field

from tests.servers.dovecot import DovecotServer, DovecotUser, encode_mutf7

ALL_MAIL = "[Gmail]/All Mail"
SYSTEM_LABELS = {"INBOX": "\\Inbox", "[Gmail]/Sent Mail": "\\Sent", "[Gmail]/Drafts": "\\Draft"}

_FETCH = re.compile(rb"^(\S+ )(UID )?FETCH ", re.IGNORECASE)
_SELECT = re.compile(rb'^\S+ (?:EXAMINE|SELECT) "?([^"\r\n]*)"?', re.IGNORECASE)
_GM_ITEM = re.compile(rb" ?X-GM-(?:LABELS|THRID|MSGID)\b", re.IGNORECASE)
_LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")
_FETCH_RESPONSE = re.compile(rb"^\* \d+ FETCH \(")
_UID = re.compile(rb"\bUID (\d+)")


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def _quote(label: str) -> bytes:
    return b'"' + label.replace("\\", "\\\\").replace('"', '\\"').encode() + b'"'


@dataclass
class _Session:
    selected: str = ""
    items: dict[int, bytes] = field(default_factory=dict)
    """UID in All Mail -> the X-GM items to add to its FETCH response."""


class GmailProxy:
    def __init__(self, server: DovecotServer, user: DovecotUser) -> None:
        self.server = server
        self.user = user
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = self._listener.getsockname()[:2]
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.label_fetches = 0
        """FETCH commands that asked for X-GM items (the test checks they were used)."""
        threading.Thread(target=self._accept, name="gmail-proxy", daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()

    def __enter__(self) -> GmailProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # the label data, from the real Dovecot ------------------------------------------------

    def _gm_items(self) -> dict[int, bytes]:
        imap = self.server.connect(self.user)
        try:
            folders = self._folders(imap)
            where: dict[str, list[str]] = {}
            for folder in folders:
                if folder == ALL_MAIL:
                    continue
                for _, message_id, _ in self._messages(imap, folder):
                    where.setdefault(message_id, []).append(SYSTEM_LABELS.get(folder, folder))
            items: dict[int, bytes] = {}
            for uid, message_id, root in self._messages(imap, ALL_MAIL):
                labels = b" ".join(_quote(encode_mutf7(x)) for x in where.get(message_id, []))
                items[uid] = b"X-GM-MSGID %d X-GM-THRID %d X-GM-LABELS (%s) " % (
                    _hash(message_id),
                    _hash(root),
                    labels,
                )
            return items
        finally:
            with contextlib.suppress(Exception):
                imap.logout()

    @staticmethod
    def _folders(imap: imaplib.IMAP4) -> list[str]:
        from loggbok.daemon.sync.providers.imap.folders import decode_mutf7

        _, data = imap.list('""', "*")
        names = []
        for line in data:
            if not isinstance(line, bytes) or b"\\Noselect" in line or b"\\NonExistent" in line:
                continue
            raw = line.rsplit(b' "/" ', 1)[-1].strip().strip(b'"').decode()
            names.append(decode_mutf7(raw))
        return names

    @staticmethod
    def _messages(imap: imaplib.IMAP4, folder: str) -> list[tuple[int, str, str]]:
        """(UID, Message-ID, the thread's first Message-ID) of every message in a folder."""
        typ, _ = imap.select('"' + encode_mutf7(folder) + '"', readonly=True)
        if typ != "OK":
            return []
        typ, data = imap.uid(
            "FETCH", "1:*", "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID REFERENCES)])"
        )
        found = []
        for part in data:
            if not isinstance(part, tuple):
                continue
            uid = _UID.search(part[0])
            headers = email.message_from_bytes(part[1])
            message_id = str(headers.get("Message-ID", "")).strip()
            references = str(headers.get("References", "")).split()
            if uid is not None and message_id:
                found.append((int(uid.group(1)), message_id, (references or [message_id])[0]))
        return found

    # the byte pumps -------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection((self.server.host, self.server.port))
            with self._lock:
                self._sockets += [client, upstream]
            session = _Session()
            threading.Thread(
                target=self._commands, args=(client, upstream, session), daemon=True
            ).start()
            threading.Thread(
                target=self._responses, args=(upstream, client, session), daemon=True
            ).start()

    def _commands(self, source: socket.socket, target: socket.socket, session: _Session) -> None:
        with contextlib.suppress(OSError), source.makefile("rb") as reader:
            while line := reader.readline():
                if selected := _SELECT.match(line):
                    from loggbok.daemon.sync.providers.imap.folders import decode_mutf7

                    session.selected = decode_mutf7(selected.group(1).decode())
                elif _FETCH.match(line) and b"X-GM-" in line.upper():
                    line = _GM_ITEM.sub(b"", line)
                    self.label_fetches += 1
                    if session.selected == ALL_MAIL:
                        session.items = self._gm_items()
                target.sendall(line)

    def _responses(self, source: socket.socket, target: socket.socket, session: _Session) -> None:
        with contextlib.suppress(OSError), source.makefile("rb") as reader:
            start = True
            while line := reader.readline():
                if start:
                    line = self._rewrite(line, session)
                target.sendall(line)
                literal = _LITERAL.search(line)
                if literal is not None:
                    target.sendall(reader.read(int(literal.group(1))))
                start = literal is None

    @staticmethod
    def _rewrite(line: bytes, session: _Session) -> bytes:
        if line.startswith(b"* CAPABILITY "):
            return line.rstrip(b"\r\n") + b" X-GM-EXT-1\r\n"
        if b"[CAPABILITY " in line:
            head, _, tail = line.partition(b"[CAPABILITY ")
            caps, _, rest = tail.partition(b"]")
            return head + b"[CAPABILITY " + caps + b" X-GM-EXT-1]" + rest
        if session.selected == ALL_MAIL and _FETCH_RESPONSE.match(line):
            uid = _UID.search(line)
            extra = session.items.get(int(uid.group(1))) if uid else None
            if extra is not None:
                opening = line.index(b"(") + 1
                return line[:opening] + extra + line[opening:]
        return line
