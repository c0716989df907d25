"""Migrations: an existing database is brought up to date and keeps its data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from loggbok.daemon.store.migrations import MIGRATIONS
from loggbok.daemon.store.store import Store


@pytest.mark.sqlite_only  # builds a SQLite file of the first schema
async def test_a_first_version_database_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "loggbok.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(f"BEGIN;\n{MIGRATIONS[0]}\nPRAGMA user_version=1;\nCOMMIT;")
        conn.execute("INSERT INTO contacts (id, name, source) VALUES (7, 'Anna', 'manual')")
    conn.close()
    store = await Store.open(tmp_path)
    await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("SELECT name FROM contacts WHERE id = 7").fetchone() == ("Anna",)
        indexes = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        assert {"timeline_entries_message", "messages_body_pending"} <= indexes
    conn.close()


@pytest.mark.sqlite_only  # builds a SQLite file of an old schema
async def test_placeholders_stored_before_r11_are_fetched_again(tmp_path: Path) -> None:
    """Attachments stored as `pending_scan` before the re-fetch existed get a rescan,
    due at once, with the placeholders' names."""
    path = tmp_path / "loggbok.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "BEGIN;\n" + "\n".join(MIGRATIONS[:3]) + "\nPRAGMA user_version=3;\nCOMMIT;"
        )
        conn.execute(
            "INSERT INTO messages (id, message_key, message_id, raw_headers, logged)"
            " VALUES (5, 'dd@x', '<dd@x>', X'', 1)"
        )
        conn.executemany(
            "INSERT INTO attachments (message, idx, filename, content_type, size, status)"
            " VALUES (5, ?, ?, 'text/plain', 90, ?)",
            [(0, "ATP Scan In Progress.eml", "pending_scan"), (1, "a.txt", "stored")],
        )
    conn.close()
    store = await Store.open(tmp_path)
    try:
        row = await store.rescans.get(5)
        assert row is not None
        assert (row["state"], row["placeholders"], row["attempts"]) == (
            "pending",
            '["ATP Scan In Progress.eml"]',
            0,
        )
        assert row["next_at"] == row["first_at"] > 0
    finally:
        await store.close()
