"""The TUI's data layer: a thin async link to the daemon and pure formatting helpers.

Nothing here is a widget; the daemon is the source of truth and nothing is cached
beyond what a screen shows.
"""
