"""The `harness` fixture: each contract test runs once per provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backends.harnesses import Harness, ImapHarness, MaildirHarness
from tests.servers.dovecot import DovecotServer

PROVIDERS = ["maildir", "imap"]


@pytest.fixture(params=PROVIDERS)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    made: Harness
    if request.param == "maildir":
        made = MaildirHarness(tmp_path / "Mail")
    else:
        dovecot: DovecotServer = request.getfixturevalue("dovecot")
        made = ImapHarness(dovecot)
    yield made
    made.close()
