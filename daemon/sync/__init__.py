"""Sync: backends (Maildir, IMAP, …) behind one contract, and the engine that
runs them, feeds the rules and commits each batch with its cursor."""
