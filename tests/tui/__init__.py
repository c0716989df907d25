"""TUI tests: pure helpers, pilot runs and snapshots against a real daemon."""
