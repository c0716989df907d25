"""The RPC server's resource bounds, in one place (docs/security.md lists them).

Each bound can be lowered (or raised) for one daemon through an environment
variable `LOGGBOK_RPC_<NAME>` (the tests use small ones to stay fast); the
defaults are what a real daemon runs with.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass, fields

from loggbok.protocol.framing import MAX_LINE_BYTES


@dataclass(frozen=True)
class Limits:
    max_line: int = MAX_LINE_BYTES
    """Bytes of one request line (64 MiB and a margin)."""
    line_buffer_total: int = 256 * 1024 * 1024
    """Bytes of unfinished request lines held for all connections together."""
    per_connection: int = 16
    """Requests of one connection that run at once (batch items count one each)."""
    lines_per_connection: int = 64
    """Lines of one connection taken in before their answers are written: past it,
    the connection is not read until one is answered."""
    total: int = 64
    """Requests of all connections that run at once."""
    batch_chunk: int = 16
    """A batch runs this many items at a time, chunk after chunk."""
    max_batch: int = 10_000
    """Items of one batch; a longer batch is one Invalid Request, nothing of it run
    (a 64 MiB line of `[0,0,...]` held 32 million error answers)."""
    batch_answer_bytes: int = 32 * 1024 * 1024
    """Bytes of one batch's answers: a call whose answer would pass it is answered
    `LIMIT_REACHED` instead (and the calls after it are not run), so the answer line
    stays readable (a client's line limit is 64 MiB)."""
    answer_buffer_total: int = 256 * 1024 * 1024
    """Bytes of batch answers held for all connections together until written; a call
    whose answer would pass it is answered as above."""
    max_pending_output: int = 32 * 1024 * 1024
    """Bytes of answers and notifications a client may leave unread before it is
    disconnected: room for one 16 MiB attachment piece (21.4 MiB as base64) and the
    notifications sent meanwhile; one line larger than this still goes to a client
    that keeps up."""

    max_connections: int = 0
    """Clients served at once; one more is answered -32011 Limit reached and closed.
    0: worked out when the server starts (`connections_for_fd_limit`)."""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        environ = dict(os.environ) if environ is None else environ
        given = {
            f.name: int(environ[key])
            for f in fields(cls)
            if (key := f"LOGGBOK_RPC_{f.name.upper()}") in environ and environ[key]
        }
        return cls(**given)


MAX_CONNECTIONS = 256


def connections_for_fd_limit() -> int:
    """`MAX_CONNECTIONS`, or half the file descriptors the daemon may still open
    (RLIMIT_NOFILE's soft limit less those open now) when that is less: the other
    half stays for its database, mailboxes, parse workers and files."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    try:
        in_use = len(os.listdir("/proc/self/fd"))
    except OSError:  # not Linux
        in_use = 64
    return max(1, min(MAX_CONNECTIONS, (soft - in_use) // 2))
