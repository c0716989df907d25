"""Logging: one JSON object per line in `<data dir>/loggbokd.log`; under systemd
(stderr is the journal stream named by `$JOURNAL_STREAM`) plain lines on stderr
with `<N>` syslog priority prefixes instead, which journald reads as each line's
priority (sd-daemon(3)).

Secrets never reach a log record: handlers log ids and error texts from
backends, which are built without credentials.

Repeated warnings and errors are rate-limited (`RateLimitedHandler`): at the
file-descriptor limit asyncio logged every failed accept, 100 a wake-up, each
with a traceback, and the log went through all its 40 MB in seconds. A
message key (logger, level, the first line of the message with numbers and
addresses blanked, the exception's type) is written at most `BURST` times per
`INTERVAL` seconds; what is held back is counted, and one line says how many
were suppressed once that window ends.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
import sys
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BURST = 20
"""Lines of one message key written per interval."""
INTERVAL = 60.0
"""Seconds of one rate-limit window."""
_VARYING = re.compile(r"0x[0-9a-fA-F]+|\d+(\.\d+)?")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def message_key(record: logging.LogRecord) -> Hashable:
    """What makes two records "the same message": not their numbers or addresses."""
    first_line = str(record.msg).split("\n", 1)[0][:200]
    exception = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
    return record.name, record.levelno, _VARYING.sub("#", first_line), exception


@dataclass
class _Window:
    start: float
    written: int
    suppressed: int
    record: logging.LogRecord


class RateLimitedHandler(logging.Handler):
    """Hands records on to `targets` (each by its own level); warnings and errors at
    most `burst` per message key and `interval`, then one summary line per window."""

    def __init__(
        self,
        targets: list[logging.Handler],
        burst: int = BURST,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.targets = targets
        self.burst = burst
        self.interval = interval
        self._clock = clock
        self._windows: dict[Hashable, _Window] = {}
        self._swept = clock()

    def emit(self, record: logging.LogRecord) -> None:
        now = self._clock()
        if now - self._swept >= 1.0:
            self._sweep(now)
        if record.levelno < logging.WARNING:
            self._send(record)
            return
        key = message_key(record)
        window = self._windows.get(key)
        if window is None or now - window.start >= self.interval:
            if window is not None:
                self._summarise(window)
            self._windows[key] = _Window(now, 1, 0, record)
            self._send(record)
        elif window.written < self.burst:
            window.written += 1
            self._send(record)
        else:
            window.suppressed += 1

    def _sweep(self, now: float) -> None:
        """Summarise and forget the windows that have ended."""
        self._swept = now
        for key, window in list(self._windows.items()):
            if now - window.start >= self.interval:
                self._summarise(window)
                del self._windows[key]

    def _summarise(self, window: _Window) -> None:
        if not window.suppressed:
            return
        sample = window.record
        first_line = str(sample.getMessage()).split("\n", 1)[0][:200]
        self._send(
            logging.LogRecord(
                sample.name,
                sample.levelno,
                sample.pathname,
                sample.lineno,
                "suppressed %d similar lines in %d s: %s",
                (window.suppressed, round(self.interval), first_line),
                None,
            )
        )
        window.suppressed = 0

    def _send(self, record: logging.LogRecord) -> None:
        for target in self.targets:
            if record.levelno >= target.level:
                target.handle(record)

    def flush(self) -> None:
        for target in self.targets:
            target.flush()

    def close(self) -> None:
        """Write what is still held back, then close the targets."""
        self.acquire()
        try:
            for window in self._windows.values():
                self._summarise(window)
            self._windows.clear()
        finally:
            self.release()
        for target in self.targets:
            target.close()
        super().close()


SYSLOG_PRIORITIES = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


class JournalFormatter(logging.Formatter):
    """`<N>logger: message`, every line of a multi-line record (a traceback) with
    the same prefix, so journald keeps each at the record's priority."""

    def format(self, record: logging.LogRecord) -> str:
        priority = SYSLOG_PRIORITIES.get(record.levelno)
        if priority is None:
            priority = 3 if record.levelno > logging.WARNING else 6
        text = f"{record.name}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return "\n".join(f"<{priority}>{line}" for line in text.splitlines() or [""])


def setup_logging(data_dir: Path, verbose: bool = False, journal: bool = False) -> None:
    """The JSON file (and warnings on stderr), or with `journal` only stderr for
    journald; rate-limited either way."""
    root = logging.getLogger()
    if journal:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(JournalFormatter())
        targets: list[logging.Handler] = [stream]
    else:
        handler = logging.handlers.RotatingFileHandler(
            data_dir / "loggbokd.log", maxBytes=10 * 1024 * 1024, backupCount=3, encoding="utf-8"
        )
        handler.setFormatter(JsonFormatter())
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(logging.Formatter("loggbokd: %(levelname)s %(message)s"))
        console.setLevel(logging.DEBUG if verbose else logging.WARNING)
        targets = [handler, console]
    root.handlers[:] = [RateLimitedHandler(targets)]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)
