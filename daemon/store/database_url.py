"""What `loggbokd --database` (or `[daemon] database`) names: one small parser.

A bare path (`~/team/loggbok.sqlite3`, relative paths taken from the working
folder) or a `sqlite:///abs/path` URL names an SQLite database file; several
daemons, one per member, may share it. Anything else is refused here with the
schemes this build knows.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

SCHEMES = ("sqlite",)


def parse_database(value: str) -> Path:
    """The database file `value` names; ValueError (saying why) when it names none."""
    text = value.strip()
    if not text:
        raise ValueError("--database: empty")
    if "://" not in text:
        return Path(text).expanduser().absolute()
    parts = urlsplit(text)
    if parts.scheme != "sqlite":
        raise ValueError(
            f"--database: {parts.scheme}:// is not a database this loggbokd can use"
            f" (it knows {', '.join(s + '://' for s in SCHEMES)} and plain paths)"
        )
    path = unquote(parts.path)
    if parts.netloc or not path.startswith("/"):
        raise ValueError("--database: a sqlite URL names an absolute path: sqlite:///abs/path")
    return Path(path)
