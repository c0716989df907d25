"""The store: the only owner of the database (SQLite in WAL mode via aiosqlite).

`Store` opens the database, runs the numbered migrations and exposes one query
object per aggregate (settings, mailboxes, contacts, messages, timeline,
threads, search). Nothing outside this package writes SQL. A team that
outgrows one machine swaps this package's SQL for PostgreSQL behind the same
methods.
"""
