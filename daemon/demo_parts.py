"""The demo's non-text parts, made by hand and deterministic: a small valid PDF, a
stored zip of a given size, an iCalendar invitation, a delivery status report
(bounce) and an HTML table. Owns these byte-level builders only.
"""

from __future__ import annotations

import html
import io
import random
import zipfile
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage, MIMEPart
from email.policy import default
from typing import cast


def make_pdf(lines: list[str]) -> bytes:
    """A one-page A4 PDF 1.4 showing `lines` in Helvetica (WinAnsi, so å ä ö work)."""

    def pdf_text(line: str) -> str:
        out = []
        for byte in line.encode("cp1252", errors="replace"):
            ch = chr(byte)
            if ch in "()\\":
                out.append("\\" + ch)
            elif 32 <= byte < 127:
                out.append(ch)
            else:
                out.append(f"\\{byte:03o}")
        return "".join(out)

    ops = ["BT", "/F1 16 Tf", "56 780 Td", "20 TL"]
    for index, line in enumerate(lines):
        if index == 1:
            ops.append("/F1 11 Tf")
        ops.append(f"({pdf_text(line)}) '")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def make_zip(inner_name: str, size: int, when: datetime, rng: random.Random) -> bytes:
    """A valid zip holding one incompressible file, about `size` bytes in all."""
    buffer = io.BytesIO()
    info = zipfile.ZipInfo(inner_name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, rng.randbytes(size - 200))
    return buffer.getvalue()


def _ics_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def make_invitation(
    *,
    uid: str,
    stamp: datetime,
    start: datetime,
    summary: str,
    location: str,
    organizer: tuple[str, str],
    attendees: list[tuple[str, str]],
) -> str:
    """An iCalendar METHOD:REQUEST for a 90-minute meeting, CRLF line ends."""
    lines = [
        "BEGIN:VCALENDAR",
        "PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN",
        "VERSION:2.0",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{_ics_time(stamp)}",
        f"DTSTART:{_ics_time(start)}",
        f"DTEND:{_ics_time(start + timedelta(minutes=90))}",
        f"SUMMARY:{summary}",
        f"LOCATION:{location}",
        f'ORGANIZER;CN="{organizer[0]}":mailto:{organizer[1]}',
        *(
            f'ATTENDEE;CN="{name}";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:'
            f"mailto:{email}"
            for name, email in attendees
        ),
        "STATUS:CONFIRMED",
        "SEQUENCE:0",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def _fold(line: str) -> str:
    """RFC 5545 3.1: lines longer than 75 octets continue after CRLF + space."""
    parts: list[str] = []
    current = ""
    for ch in line:
        if len((current + ch).encode()) > (75 if not parts else 74):
            parts.append(current)
            current = ""
        current += ch
    parts.append(current)
    return "\r\n ".join(parts)


def make_bounce(original: EmailMessage, *, reporting_mta: str, recipient: str) -> EmailMessage:
    """A multipart/report; report-type=delivery-status for `original` (headers set by caller)."""
    report = EmailMessage(policy=default)
    report.set_content(
        "This is the mail system at host " + reporting_mta + ".\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below.\n\n"
        f"<{recipient}>: host mx.{recipient.partition('@')[2]} said: 550 5.1.1\n"
        "    <" + recipient + ">: Recipient address rejected: User unknown\n",
        disposition="inline",
    )
    report.make_mixed()
    report.set_type("multipart/report")
    report.set_param("report-type", "delivery-status")
    report.preamble = "This is a MIME-encapsulated message.\n"

    per_message = EmailMessage(policy=default)
    per_message["Reporting-MTA"] = f"dns; {reporting_mta}"
    per_message["Arrival-Date"] = original["Date"]
    per_recipient = EmailMessage(policy=default)
    per_recipient["Final-Recipient"] = f"rfc822; {recipient}"
    per_recipient["Original-Recipient"] = f"rfc822;{recipient}"
    per_recipient["Action"] = "failed"
    per_recipient["Status"] = "5.1.1"
    per_recipient["Remote-MTA"] = f"dns; mx.{recipient.partition('@')[2]}"
    per_recipient["Diagnostic-Code"] = "smtp; 550 5.1.1 User unknown"
    status = cast(EmailMessage, MIMEPart(policy=default))
    status["Content-Type"] = "message/delivery-status"
    status["Content-Description"] = "Delivery report"
    status.set_payload([per_message, per_recipient])
    report.attach(status)

    headers = cast(EmailMessage, MIMEPart(policy=default))
    header_text = "".join(f"{name}: {value}\n" for name, value in original.items())
    headers.set_content(header_text, subtype="rfc822-headers", cte="8bit")
    headers["Content-Description"] = "Undelivered Message Headers"
    report.attach(headers)
    return report


_VOLUMES = (
    ("Wareneingang (Paletten)", "1.120", "3"),
    ("Warenausgang (Paletten)", "1.180", "3"),
    ("Kommissionierpositionen", "8.400", "2"),
    ("Inventurplätze", "14.600", "–"),
)


def volumes_text() -> str:
    """The volumes table as a text client shows it when quoting."""
    return "\n".join(f"{a:<26}{b:>8}  {c}" for a, b, c in _VOLUMES)


def volumes_html(intro: str, signature: str, quoted: str) -> str:
    """Katrin Hoffmann's HTML-only reply: her text, a table of volumes, the quote."""
    rows = _VOLUMES
    cells = "".join(
        f'<tr><td>{html.escape(a)}</td><td align="right">{b}</td><td align="center">{c}</td></tr>'
        for a, b, c in rows
    )

    def paragraphs(text: str) -> str:
        return "".join(
            f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n")
        )

    return (
        '<html><head><meta charset="utf-8"></head><body style="font-family:Calibri,sans-serif">'
        f"{paragraphs(intro)}"
        '<table border="1" cellpadding="4" cellspacing="0">'
        "<tr><th>Kennzahl</th><th>pro Tag</th><th>Schichten</th></tr>"
        f"{cells}</table>"
        f"{paragraphs(signature)}"
        '<hr><div style="border-left:2px solid #ccc;padding-left:8px">'
        f"{paragraphs(quoted)}</div></body></html>"
    )
