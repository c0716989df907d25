"""`mime.sender_only`: Bcc and Resent-Bcc taken out of a header block, nothing else."""

from __future__ import annotations

from loggbok.daemon.mime.sender_only import without_sender_only


def test_bcc_fields_go_with_their_folded_lines_and_nothing_else_moves() -> None:
    block = (
        b"From: a@f.example\r\n"
        b"BCC: x@f.example,\r\n\ty@f.example\r\n"
        b"To: b@k.example\r\n"
        b"Resent-Bcc: z@f.example\r\n"
        b"X-Bcc-Note: kept, not a Bcc field\r\n"
        b"Subject: about Bcc: kept\r\n"
        b" folded subject\r\n"
        b"Cc: c@k.example\r\n"
        b"\r\n"
    )
    assert without_sender_only(block) == (
        b"From: a@f.example\r\n"
        b"To: b@k.example\r\n"
        b"X-Bcc-Note: kept, not a Bcc field\r\n"
        b"Subject: about Bcc: kept\r\n"
        b" folded subject\r\n"
        b"Cc: c@k.example\r\n"
        b"\r\n"
    )


def test_lf_lines_a_last_field_and_blocks_without_bcc() -> None:
    assert without_sender_only(b"To: b@k.example\nbcc : x@f.example\n y@f.example") == (
        b"To: b@k.example\n"
    )
    plain = b"From: a@f.example\nCc: c@k.example\n\n"
    assert without_sender_only(plain) == plain
    assert without_sender_only(b"") == b""
