"""The logging rules (DESIGN.md R1–R18) as pure functions of a message's header
facts and a context snapshot; no I/O, no clock, no database."""
