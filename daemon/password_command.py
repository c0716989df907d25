"""A mailbox's `password_command` (from the config file): run at connect time,
the first line of its standard output is the password.

It runs through `/bin/sh -c` (as mbsync's `PassCmd` does), with no input and
within `TIMEOUT` seconds. The password is returned to the caller only: never
logged, never stored. A command that fails or prints nothing is an auth error
(nothing is retried until the mailbox is reconnected or the file changes); one
that does not finish in time (a locked gpg-agent waiting for a passphrase) is
temporary and retried with back-off.
"""

from __future__ import annotations

import asyncio
import contextlib

from loggbok.daemon.sync.backend import AuthError, TemporaryError

TIMEOUT = 60.0
MAX_OUTPUT = 64 * 1024


async def run_password_command(command: str, timeout: float = TIMEOUT) -> str:
    process = await asyncio.create_subprocess_shell(
        command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise TemporaryError(f"password_command did not finish within {timeout:.0f} s") from None
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        said = stderr[:MAX_OUTPUT].decode(errors="replace").strip().splitlines()
        detail = f": {said[0][:200]}" if said else ""
        raise AuthError(f"password_command exited with status {process.returncode}{detail}")
    lines = stdout[:MAX_OUTPUT].decode(errors="replace").splitlines()
    password = lines[0] if lines else ""
    if not password:
        raise AuthError("password_command printed no password")
    return password
