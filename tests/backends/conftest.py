"""The `harness` fixture: each contract test runs once per provider; the
`daemon` here gets what the harness's source needs (a CA to trust)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backends.harnesses import (
    EwsHarness,
    GraphHarness,
    Harness,
    ImapHarness,
    MaildirHarness,
)
from tests.conftest import DaemonProcess
from tests.servers.dovecot import DovecotServer
from tests.servers.ews.server import EwsServer
from tests.servers.graph.server import GraphServer

PROVIDERS = ["maildir", "imap", "graph", "ews"]


@pytest.fixture(params=PROVIDERS)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    made: Harness
    if request.param == "maildir":
        made = MaildirHarness(tmp_path / "Mail")
    elif request.param == "imap":
        dovecot: DovecotServer = request.getfixturevalue("dovecot")
        made = ImapHarness(dovecot)
    elif request.param == "ews":
        ews: EwsServer = request.getfixturevalue("ews_server")
        made = EwsHarness(ews)
    else:
        server: GraphServer = request.getfixturevalue("graph_server")
        made = GraphHarness(server)
    yield made
    made.close()


@pytest.fixture
def daemon(workdir: Path, harness: Harness) -> Iterator[DaemonProcess]:
    (workdir / "data").mkdir()
    proc = DaemonProcess(
        workdir / "d.sock",
        workdir / "data",
        env={
            "LOGGBOK_MAILDIR_POLL": os.environ.get("LOGGBOK_MAILDIR_POLL", ""),
            **harness.daemon_env(),
        },
    )
    proc.start()
    yield proc
    if proc.process is not None:
        proc.stop()
