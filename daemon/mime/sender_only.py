"""Header fields only a message's sender may read: Bcc and Resent-Bcc.

A sender's own copy of an email (Sent) may carry a `Bcc:` field naming who else
got it in secret: a boss, a logging address. Recipients never see it, and in a
team neither should a colleague who may read the logged email. `without_sender_only`
takes those fields (with their folded lines) out of a header block and leaves
every other byte as it was.
"""

from __future__ import annotations

SENDER_ONLY = frozenset({b"bcc", b"resent-bcc"})
"""Field names (lower case) that only the sender reads."""


def without_sender_only(block: bytes) -> bytes:
    """`block` (a message's header block, CRLF or LF) without its `SENDER_ONLY` fields."""
    if b"cc" not in block.lower():  # most blocks: nothing to take out, no copy
        return block
    kept: list[bytes] = []
    dropping = False
    for line in block.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and line.strip():
            if not dropping:  # a folded line of the field before
                kept.append(line)
            continue
        name, colon, _ = line.partition(b":")
        dropping = bool(colon) and name.strip().lower() in SENDER_ONLY
        if not dropping:
            kept.append(line)
    return b"".join(kept)
