"""Numbered schema migrations. Append only: never edit a migration that shipped.

Tables: users and their settings; mailboxes, folders and folder sync cursors;
companies and contacts (several addresses each); messages (raw headers kept)
with their locations in folders; thread keys (seen and ghost Message-IDs);
threads and the subjects each is tracked under; decisions with reason and
evidence; timeline entries (one message may sit on several contacts'
timelines); attachments (content-addressed files beside the database) and the
re-fetching of those a scanner's placeholder stands in for (R11); an FTS5
index over logged mail; the settings the team shares (R16's list for everyone).
Users have a seat, an address, an admin flag and at most one team; what a message's
owner logged is seen as its visibility says (`store/records.py`, `VISIBLE`).
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: the foundation
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        seat TEXT NOT NULL DEFAULT 'core' CHECK (seat IN ('core','sales','service','view_only')),
        active INTEGER NOT NULL DEFAULT 1,
        settings TEXT NOT NULL DEFAULT '{}'
    );
    INSERT INTO users (id, name) VALUES (1, 'me');

    CREATE TABLE mailboxes (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        provider TEXT NOT NULL,
        address TEXT NOT NULL,
        config TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL DEFAULT 'new',
        status_detail TEXT NOT NULL DEFAULT '',
        last_sync TEXT,
        removed INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
    );

    CREATE TABLE folders (
        id INTEGER PRIMARY KEY,
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
        name TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT 'other',
        state TEXT NOT NULL DEFAULT 'initial',
        cursor TEXT,
        error TEXT,
        last_sync TEXT,
        UNIQUE (mailbox_id, name)
    );

    CREATE TABLE companies (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        domain TEXT NOT NULL UNIQUE
    );

    CREATE TABLE contacts (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL DEFAULT '',
        company_id INTEGER REFERENCES companies(id),
        source TEXT NOT NULL DEFAULT 'manual',
        last_activity TEXT,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
    );
    CREATE INDEX contacts_activity ON contacts(last_activity DESC, id DESC);

    CREATE TABLE contact_emails (
        email TEXT PRIMARY KEY,
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        position INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX contact_emails_contact ON contact_emails(contact_id);

    CREATE TABLE threads (
        id INTEGER PRIMARY KEY,
        subject_norm TEXT NOT NULL DEFAULT '',
        tracked INTEGER NOT NULL DEFAULT 0,
        tracked_reason TEXT,
        tracked_mailbox_id INTEGER,
        root_message INTEGER,
        conversation_key TEXT
    );
    CREATE INDEX threads_conversation ON threads(conversation_key);

    CREATE TABLE thread_contacts (
        thread_id INTEGER NOT NULL REFERENCES threads(id),
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        PRIMARY KEY (thread_id, contact_id)
    );

    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        message_key TEXT NOT NULL UNIQUE,
        message_id TEXT NOT NULL,
        mailbox_id INTEGER,
        folder TEXT,
        thread_id INTEGER REFERENCES threads(id),
        subject TEXT NOT NULL DEFAULT '',
        subject_norm TEXT NOT NULL DEFAULT '',
        from_email TEXT NOT NULL DEFAULT '',
        from_name TEXT NOT NULL DEFAULT '',
        recipients TEXT NOT NULL DEFAULT '{}',
        date TEXT NOT NULL DEFAULT '',
        date_ts REAL NOT NULL DEFAULT 0,
        direction TEXT NOT NULL DEFAULT 'inbound',
        raw_headers BLOB NOT NULL,
        size INTEGER NOT NULL DEFAULT 0,
        snippet TEXT NOT NULL DEFAULT '',
        body_text TEXT,
        new_text TEXT,
        body_state TEXT NOT NULL DEFAULT 'headers',
        parse_error TEXT,
        logged INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        visibility TEXT NOT NULL DEFAULT 'everyone',
        owner_id INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
    );
    CREATE INDEX messages_recent ON messages(date_ts DESC, id DESC);
    CREATE INDEX messages_reason ON messages(logged, reason, date_ts DESC);
    CREATE INDEX messages_thread ON messages(thread_id);

    CREATE TABLE message_locations (
        folder_id INTEGER NOT NULL REFERENCES folders(id),
        remote_id TEXT NOT NULL,
        message INTEGER REFERENCES messages(id),
        state TEXT NOT NULL DEFAULT 'ok',
        error TEXT,
        PRIMARY KEY (folder_id, remote_id)
    );
    CREATE INDEX message_locations_message ON message_locations(message);

    CREATE TABLE thread_keys (
        key TEXT PRIMARY KEY,
        thread_id INTEGER NOT NULL REFERENCES threads(id),
        message INTEGER
    );

    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        message INTEGER NOT NULL REFERENCES messages(id),
        logged INTEGER NOT NULL,
        reason TEXT NOT NULL,
        rule TEXT NOT NULL,
        evidence TEXT NOT NULL DEFAULT '{}',
        decided_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
    );
    CREATE INDEX decisions_message ON decisions(message, id DESC);

    CREATE TABLE timeline_entries (
        id INTEGER PRIMARY KEY,
        contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        message INTEGER NOT NULL REFERENCES messages(id),
        date_ts REAL NOT NULL,
        reason TEXT NOT NULL,
        UNIQUE (contact_id, message)
    );
    CREATE INDEX timeline_page ON timeline_entries(contact_id, date_ts DESC, id DESC);

    CREATE TABLE attachments (
        message INTEGER NOT NULL REFERENCES messages(id),
        idx INTEGER NOT NULL,
        filename TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        status TEXT NOT NULL,
        sha256 TEXT,
        PRIMARY KEY (message, idx)
    );

    CREATE VIRTUAL TABLE message_fts USING fts5(
        subject, participants, body, tokenize = 'unicode61 remove_diacritics 2'
    );
    """,
    # 2: lookups that every sync round makes, without walking a whole table: timeline
    # entries by message (announcing new entries, once per push and per body chunk) and
    # logged messages still waiting for their body (at the start of every round)
    """
    CREATE INDEX timeline_entries_message ON timeline_entries(message);
    CREATE INDEX messages_body_pending ON messages(id)
        WHERE logged = 1 AND body_state = 'headers';
    """,
    # 3: a thread is tracked under every subject its tracking messages carried (a follow-up
    # sent with the logging address under a new subject, each patch of a series), each
    # with the message that brought it; threads tracked before get the subjects of their
    # logged messages, oldest first, then the one they were tracked under
    """
    CREATE TABLE thread_subjects (
        thread_id INTEGER NOT NULL REFERENCES threads(id),
        subject_norm TEXT NOT NULL,
        message INTEGER,
        PRIMARY KEY (thread_id, subject_norm)
    );
    INSERT OR IGNORE INTO thread_subjects (thread_id, subject_norm, message)
        SELECT m.thread_id, m.subject_norm, m.id FROM messages m
        JOIN threads t ON t.id = m.thread_id
        WHERE t.tracked = 1 AND m.logged = 1
          AND m.reason IN ('bcc_address', 'reply_in_tracked_thread', 'sent_from_crm')
        ORDER BY m.id;
    INSERT OR IGNORE INTO thread_subjects (thread_id, subject_norm)
        SELECT id, subject_norm FROM threads WHERE tracked = 1;
    """,
    # 4: R8, a forward logged as its original keeps its own sender, subject and date here
    # (JSON: from, subject, date, original_message_id, found_in); NULL for other mail
    """
    ALTER TABLE messages ADD COLUMN forwarded TEXT;
    """,
    # 5: every folder is synced; Gmail's All Mail is read alone, and a message's labels
    # there (its folders, as a JSON list) ride on its location
    """
    ALTER TABLE message_locations ADD COLUMN labels TEXT;
    """,
    # 6: R11, a logged message whose attachments are a security scanner's placeholders
    # (Dynamic Delivery) is fetched again with back-off until the real files replace
    # them: when it was first seen so, the attempts made, when the next is due (NULL:
    # the schedule's first step after first_at), and how it ended. Messages stored
    # before get a row, due at once.
    """
    CREATE TABLE attachment_rescans (
        message INTEGER PRIMARY KEY REFERENCES messages(id),
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'replaced', 'gave_up')),
        placeholders TEXT NOT NULL DEFAULT '[]',
        first_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at REAL,
        last_at REAL,
        last_error TEXT,
        done_at REAL
    );
    CREATE INDEX attachment_rescans_pending ON attachment_rescans(message)
        WHERE state = 'pending';
    INSERT OR IGNORE INTO attachment_rescans (message, placeholders, first_at, next_at)
        SELECT message, json_group_array(filename), strftime('%s', 'now'), strftime('%s', 'now')
        FROM attachments WHERE status = 'pending_scan' GROUP BY message;
    """,
    # 7: where a mailbox came from: 'socket' (mailboxes.add) or 'config' (the config file,
    # which updates and removes only its own)
    """
    ALTER TABLE mailboxes ADD COLUMN origin TEXT NOT NULL DEFAULT 'socket';
    """,
    # 8: R15, a mailbox is a member's own ('personal') or a team's shared inbox ('team'),
    # whose mail is logged into conversations (its threads, found by mailbox and latest
    # message); R16, the settings the whole team shares (JSON: the never-log list for
    # everyone), one row
    """
    ALTER TABLE mailboxes ADD COLUMN kind TEXT NOT NULL DEFAULT 'personal'
        CHECK (kind IN ('personal', 'team'));
    CREATE INDEX messages_mailbox_thread ON messages(mailbox_id, thread_id, date_ts);
    CREATE TABLE team_settings (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        settings TEXT NOT NULL DEFAULT '{}'
    );
    INSERT INTO team_settings (id, settings) VALUES (1, '{}');
    """,
    # 9: R13, the intervals a mailbox could not be read (`store/outages.py`): from
    # `since_ts` (its last good sync) to `ended_ts` (NULL: still), why, and how many
    # messages it held from `since_ts` on once it was read again. A mailbox that is
    # unavailable or removed now gets one open from its last sync.
    """
    CREATE TABLE mailbox_outages (
        id INTEGER PRIMARY KEY,
        mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
        since_ts REAL NOT NULL,
        began_ts REAL NOT NULL,
        ended_ts REAL,
        cause TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        arrived INTEGER
    );
    CREATE INDEX mailbox_outages_mailbox ON mailbox_outages(mailbox_id, ended_ts);
    CREATE INDEX threads_tracked_mailbox ON threads(tracked_mailbox_id) WHERE tracked = 1;
    INSERT INTO mailbox_outages (mailbox_id, since_ts, began_ts, cause, detail)
        SELECT id,
            coalesce(CAST(strftime('%s', last_sync) AS REAL), CAST(strftime('%s', 'now') AS REAL)),
            CAST(strftime('%s', 'now') AS REAL),
            CASE WHEN removed = 1 THEN 'removed' ELSE status END, status_detail
        FROM mailboxes WHERE removed = 1 OR status IN ('auth_failed', 'disconnected', 'error');
    """,
    # 10: a team on one store: each user named by an address (NULL until a daemon serves
    # them: the first user is claimed by the first `loggbokd --user`), in at most one
    # team, the first user an admin; a mailbox may carry a visibility of its own for
    # what it logs (NULL: its user's default_visibility). Messages are found by owner.
    """
    CREATE TABLE teams (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    ALTER TABLE users ADD COLUMN email TEXT;
    ALTER TABLE users ADD COLUMN team_id INTEGER REFERENCES teams(id);
    ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
    CREATE UNIQUE INDEX users_email ON users(email);
    CREATE INDEX users_team ON users(team_id);
    UPDATE users SET admin = 1 WHERE id = (SELECT min(id) FROM users);
    ALTER TABLE mailboxes ADD COLUMN visibility TEXT
        CHECK (visibility IS NULL OR visibility IN ('everyone', 'team', 'owner'));
    CREATE INDEX messages_owner ON messages(owner_id);
    """,
    # 11: reads at scale. Unlogged (or logged) mail newest first from an index; the
    # contact list's order from an index; contacts found by any part of a name, address
    # or company through a trigram index (`contact_search`, rowid = contact id). Triggers
    # note the contacts whose text changed (`contact_search_stale`), whatever wrote them;
    # every write transaction brings their rows up to date before it commits, in one
    # statement (`contact_search.settle`: FTS5 writes from triggers, one per row, cost
    # ten times the import itself)
    """
    CREATE INDEX messages_logged_recent ON messages(logged, date_ts DESC, id DESC);
    CREATE INDEX contacts_listed
        ON contacts((last_activity IS NULL), last_activity DESC, lower(name), id);
    CREATE VIRTUAL TABLE contact_search USING fts5(name, emails, company, tokenize = 'trigram');
    CREATE TABLE contact_search_stale (contact_id INTEGER PRIMARY KEY);
    INSERT INTO contact_search (rowid, name, emails, company)
        SELECT c.id, c.name, coalesce((SELECT group_concat(email, char(10))
            FROM contact_emails WHERE contact_id = c.id), ''), coalesce(co.name, '')
        FROM contacts c LEFT JOIN companies co ON co.id = c.company_id ORDER BY c.id;
    CREATE TRIGGER contact_search_insert AFTER INSERT ON contacts BEGIN
        INSERT INTO contact_search_stale VALUES (new.id) ON CONFLICT DO NOTHING;
    END;
    CREATE TRIGGER contact_search_update AFTER UPDATE OF name, company_id ON contacts BEGIN
        INSERT INTO contact_search_stale VALUES (new.id) ON CONFLICT DO NOTHING;
    END;
    CREATE TRIGGER contact_search_delete AFTER DELETE ON contacts BEGIN
        INSERT INTO contact_search_stale VALUES (old.id) ON CONFLICT DO NOTHING;
    END;
    CREATE TRIGGER contact_search_email_insert AFTER INSERT ON contact_emails BEGIN
        INSERT INTO contact_search_stale VALUES (new.contact_id) ON CONFLICT DO NOTHING;
    END;
    CREATE TRIGGER contact_search_email_delete AFTER DELETE ON contact_emails BEGIN
        INSERT INTO contact_search_stale VALUES (old.contact_id) ON CONFLICT DO NOTHING;
    END;
    CREATE TRIGGER contact_search_email_update AFTER UPDATE ON contact_emails BEGIN
        INSERT INTO contact_search_stale VALUES (old.contact_id) ON CONFLICT DO NOTHING;
        INSERT INTO contact_search_stale VALUES (new.contact_id) ON CONFLICT DO NOTHING;
    END;
    CREATE TRIGGER contact_search_company AFTER UPDATE OF name ON companies BEGIN
        INSERT INTO contact_search_stale SELECT id FROM contacts WHERE company_id = new.id
            ON CONFLICT DO NOTHING;
    END;
    """,
    # 12: attachments in the database where the database is shared (PostgreSQL's
    # `attachment_blobs`, so every member's daemon serves them). Nothing on SQLite:
    # attachments stay files beside the database (`blobs.py`).
    """
    SELECT 1;
    """,
    # 13: contacts of a company found by an index (the company trigger above reads them;
    # PostgreSQL's rendering also keeps each contact's searchable text on its row)
    """
    CREATE INDEX contacts_company ON contacts(company_id);
    """,
    # 14: attachments by their blob (sha256), so a transaction that lets go of a blob
    # finds whether any attachment still names it (`blob_gc.py`)
    """
    CREATE INDEX attachments_sha256 ON attachments(sha256);
    """,
    # 15: PostgreSQL's list index carries each contact's searchable text, so a
    # `contacts.list` query walks the list's order without reading the table. Nothing
    # on SQLite (its matches come from `contact_search`)
    """
    SELECT 1;
    """,
    # 16: a contact's threads found by an index (`thread_contacts` is keyed by thread):
    # its blind threads (`OutageQueries`) are read from them, and deleting or merging a
    # contact no longer reads the whole table
    """
    CREATE INDEX thread_contacts_contact ON thread_contacts(contact_id, thread_id);
    """,
    # 17: messages sharing a Message-ID (a colleague's different email under it has a
    # key of its own, `foreign_copies.py`): once there are two, each is listed under
    # the plain key, so a reply naming it finds them all with one lookup
    # (`rules/namesakes.py`). And the messages a member imported that they may not see
    # (a colleague's, hidden): kept once, their owner's; noted so that the member's
    # next import of it answers as a second import does (`store/archive.py`)
    """
    CREATE TABLE namesakes (
        key TEXT NOT NULL,
        message INTEGER NOT NULL REFERENCES messages(id),
        PRIMARY KEY (key, message)
    );
    INSERT INTO namesakes (key, message)
        SELECT substr(message_key, 1, instr(message_key, ' #') - 1), id FROM messages
        WHERE message_key LIKE '% #%';
    INSERT INTO namesakes (key, message)
        SELECT m.message_key, m.id FROM messages m
        WHERE m.message_key IN (SELECT key FROM namesakes) ON CONFLICT DO NOTHING;
    CREATE TABLE hidden_imports (
        message INTEGER NOT NULL REFERENCES messages(id),
        member INTEGER NOT NULL REFERENCES users(id),
        PRIMARY KEY (message, member)
    );
    """,
    # 18: each contact's searchable text on its own row, in the list's index (as
    # PostgreSQL's 13 and 15): its name, addresses and company name, a line each,
    # lower-cased by Python's rules (`loggbok_lower`, registered on every connection
    # that writes: SQLite's own lower() knows only ASCII, and Å is Swedish). A query
    # matched by many contacts walks the index and compares each entry's text
    # (`instr`, never the table: 0.2 us an entry), where checking each entry against
    # the set of the trigram index's matches first read that whole set (0.2 us a
    # match, 5,120 for "berg"). Kept by `contact_search.settle` with the trigram rows
    """
    ALTER TABLE contacts ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
    UPDATE contacts SET search_text = loggbok_lower(name || char(10)
        || coalesce((SELECT group_concat(email, char(10)) FROM (SELECT email
            FROM contact_emails e WHERE e.contact_id = contacts.id ORDER BY position, email)), '')
        || char(10) || coalesce((SELECT co.name FROM companies co
            WHERE co.id = contacts.company_id), ''));
    DROP INDEX contacts_listed;
    CREATE INDEX contacts_listed
        ON contacts((last_activity IS NULL), last_activity DESC, lower(name), id, search_text);
    """,
]
