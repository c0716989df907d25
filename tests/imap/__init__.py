"""Tests of the IMAP backend against a real Dovecot, and of its pure parsers."""
