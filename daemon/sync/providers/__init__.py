"""Mail providers, one package each: `maildir/` and `imap/` (IMAP and Gmail)."""
