"""The terminal UI and the `loggbok` command.

A client of the daemon through `loggbok.protocol` only; it never imports the daemon.
"""
