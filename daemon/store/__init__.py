"""The store: the only owner of the database (SQLite in WAL mode via aiosqlite, or a
team's shared PostgreSQL via psycopg 3; `db.py`).

`Store` opens the database, runs the numbered migrations and exposes one query
object per aggregate (settings, mailboxes, contacts, messages, timeline,
threads, search). Nothing outside this package writes SQL; the SQL is written
once for both databases, what differs asked of `dialect.py`.
"""
