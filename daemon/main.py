"""`loggbokd`'s entry point, kept light: it imports nothing of the daemon until it runs.

The parse workers (`sync/parse_pool.py`) are started with multiprocessing's
"spawn", and a spawned process first imports its parent's main module (this
one, as `__mp_main__`; or the `loggbokd` script, which imports this one), before
it imports what it was started for. Were the daemon imported here, each worker
would load all of it (the store, the RPC server, every provider's client
library: about 0.5 s of CPU and 900 modules) at the start of every sync after
an idle minute; so `main` imports `cli` only when called. What the command
does is `cli.py`'s (exit statuses there).
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> None:
    """Run `loggbokd` (`cli.main`): parse `argv` and serve until stopped."""
    from loggbok.daemon import cli  # here, not above: see the module's docstring

    cli.main(argv)


if __name__ == "__main__":
    main()
