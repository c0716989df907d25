"""Imported cards merged into a real store a batch at a time, and the streaming
reader's bounds (long lines, many errors)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from loggbok.daemon import contacts_import, importing
from loggbok.daemon.contacts_import import ContactsReader, ImportedContact, parse_contacts_file
from loggbok.daemon.importing import import_contacts
from loggbok.daemon.store.store import Store
from loggbok.protocol.types import ContactsImportProgress
from tests.support.contacts_files import write_vcard


def _card(name: str, *emails: str) -> ImportedContact:
    return ImportedContact(name, emails, None)


async def test_cards_merge_in_file_order_within_and_across_batches(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    try:
        existing = await store.contacts.create("anna@kund.example")
        await store.contacts.update(existing, "", None)  # a contact without a name
        counts = await store.contacts.merge_imported(
            [
                _card("Anna Berg", "anna@kund.example", "anna.berg@kund.example"),
                _card("Erik", "erik@kund.example"),
                _card("Erik Lind", "erik@kund.example", "e.lind@gmail.com"),
                _card("Erik again", "e.lind@gmail.com"),
            ]
        )
        assert (counts.created, counts.updated, counts.unchanged) == (1, 2, 1)
        anna = await store.contacts.get(existing)
        assert anna.name == "Anna Berg"
        assert anna.emails == ["anna@kund.example", "anna.berg@kund.example"]
        erik_id = (await store.contacts.lookup(["erik@kund.example"]))["erik@kund.example"]
        erik = await store.contacts.get(erik_id)
        assert (erik.name, erik.emails, erik.source) == (
            "Erik",
            ["erik@kund.example", "e.lind@gmail.com"],
            "import",
        )
        assert erik.company == "Kund"
        again = await store.contacts.merge_imported([_card("Erik", "e.lind@gmail.com")])
        assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    finally:
        await store.close()


async def test_import_streams_batches_and_reports_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "IMPORT_BATCH", 100)
    vcard = write_vcard(tmp_path / "c.vcf", 250)
    (tmp_path / "data").mkdir()
    store = await Store.open(tmp_path / "data")
    seen: list[ContactsImportProgress] = []

    async def progress(update: ContactsImportProgress) -> None:
        seen.append(update)

    try:
        result = await import_contacts(store, vcard, progress)
    finally:
        await store.close()
    assert result.created == 250
    assert [(p.done, p.created) for p in seen] == [(100, 100), (200, 200), (250, 250)]
    assert seen[-1].bytes_read == seen[-1].total_bytes == vcard.stat().st_size


async def test_a_cancelled_import_keeps_whole_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "IMPORT_BATCH", 100)
    vcard = write_vcard(tmp_path / "c.vcf", 1000)
    (tmp_path / "data").mkdir()
    store = await Store.open(tmp_path / "data")
    try:
        second = asyncio.Event()

        async def progress(update: ContactsImportProgress) -> None:
            if update.done >= 200:
                second.set()

        task = asyncio.create_task(import_contacts(store, vcard, progress))
        await second.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        rows = await store.db.fetchall("SELECT count(*) FROM contacts")
        assert rows[0][0] in (200, 300)
    finally:
        await store.close()


def test_long_lines_are_cut_and_the_rest_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contacts_import, "MAX_LINE_CHARS", 100)
    photo = "PHOTO;ENCODING=b:" + "A" * 1000
    folded = "NOTE:" + "x" * 60 + "".join(f"\r\n {'y' * 60}" for _ in range(10))
    text = (
        f"BEGIN:VCARD\r\nFN:Anna\r\n{photo}\r\nEMAIL:anna@x.example\r\nEND:VCARD\r\n"
        f"BEGIN:VCARD\r\nFN:Erik\r\n{folded}\r\nEMAIL:erik@x.example\r\nEND:VCARD\r\n"
    )
    path = tmp_path / "photos.vcf"
    path.write_text(text, encoding="utf-8", newline="")
    batch = parse_contacts_file(path)
    assert batch.errors == []
    assert [c.emails for c in batch.contacts] == [("anna@x.example",), ("erik@x.example",)]


def test_errors_are_kept_up_to_a_bound_and_the_rest_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contacts_import, "MAX_ERRORS", 5)
    path = tmp_path / "bad.csv"
    path.write_text("Name,Email\n" + "".join(f"N{i},not-an-address\n" for i in range(12)))
    with ContactsReader(path) as reader:
        assert reader.take(100) == []
        assert reader.skipped == 12
        assert len(reader.errors) == 6
        assert reader.errors[-1] == "... and 19 more errors"
