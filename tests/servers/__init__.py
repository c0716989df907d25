"""Real servers the tests (and `bench/`) start themselves: Dovecot for IMAP."""
