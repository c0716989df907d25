"""A message rebuilt from what the store keeps, for an export whose mailbox can no
longer give the original (removed, unreachable, the message deleted there).

The header block is kept byte for byte except its MIME fields; the body is the
stored text and the stored attachments, as a fresh MIME body, and the header
`X-Loggbok-Rebuilt: yes` says so. Attachments that were not stored (over the
limit, missing) are left out.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage

REBUILT_HEADER = b"X-Loggbok-Rebuilt: yes"


def _fields(block: bytes) -> list[bytes]:
    """Header fields with their folded continuation lines, each ending with its newline."""
    fields: list[bytes] = []
    for line in block.splitlines(keepends=True):
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        else:
            fields.append(line)
    return fields


def rebuild(raw_headers: bytes, body_text: str, attachments: list[tuple[str, str, bytes]]) -> bytes:
    crlf = b"\r\n" in raw_headers
    newline = b"\r\n" if crlf else b"\n"
    kept = []
    for field in _fields(raw_headers):
        name = field.split(b":", 1)[0].strip().lower()
        if name.startswith(b"content-") or name == b"mime-version":
            continue
        if not field.endswith(b"\n"):
            field += newline
        kept.append(field)
    body = EmailMessage(policy=policy.SMTP if crlf else policy.default)
    body.set_content(body_text or "")
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        body.add_attachment(
            data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=filename or None,
        )
    return b"".join(kept) + REBUILT_HEADER + newline + body.as_bytes()
