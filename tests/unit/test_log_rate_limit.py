"""Repeated warnings and errors are written at most `burst` times per window, then
summed up in one line; other messages, and lower levels, pass untouched."""

from __future__ import annotations

import logging

from loggbok.daemon.logs import RateLimitedHandler


class Capture(logging.Handler):
    def __init__(self, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _logger(handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger("test.ratelimit")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger


def test_a_flood_of_one_error_is_cut_to_a_burst_and_a_summary() -> None:
    clock = Clock()
    file, console = Capture(), Capture(logging.WARNING)
    log = _logger(RateLimitedHandler([file, console], burst=5, interval=60, clock=clock))
    for n in range(1000):
        log.error("socket.accept() out of system resource\nsocket: <fd=%d at 0x%x>", n, n * 16)
        try:
            raise OSError(24, "Too many open files")
        except OSError:
            log.exception("failed to answer request %d", n)
    log.warning("something else")
    for n in range(30):
        log.info("synced %d", n)  # below WARNING: never held back
    assert len(file.lines) == 5 + 5 + 1 + 30
    assert len(console.lines) == 5 + 5 + 1

    clock.now += 61  # the window ends: the next record brings the summaries first
    log.error("socket.accept() out of system resource\nsocket: <fd=7 at 0x1>")
    summaries = [line for line in file.lines if line.startswith("suppressed")]
    assert summaries == [
        "suppressed 995 similar lines in 60 s: socket.accept() out of system resource",
        "suppressed 995 similar lines in 60 s: failed to answer request 0",
    ]
    assert file.lines[-1].startswith("socket.accept()")

    for _ in range(9):
        log.error("socket.accept() out of system resource\nsocket: <fd=7 at 0x1>")
    log.handlers[0].close()  # at exit, what is held back is summed up too
    assert file.lines[-1] == (
        "suppressed 5 similar lines in 60 s: socket.accept() out of system resource"
    )
