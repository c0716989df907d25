"""The config file's reading: typed declarations from a valid file, and one error
with the right line number for each kind of mistake."""

from __future__ import annotations

import pytest

from loggbok.daemon.config.parse import ConfigInvalid, parse
from loggbok.protocol import types as t

GOOD = """\
# my loggbok
[settings]
own_addresses = ["Me <ME@firma.example>"]
default_visibility = "team"

[[mailboxes]]
provider = "maildir"
address = "me@firma.example"
path = "~/Mail/work"

[[mailboxes]]
provider = "imap"
address = "me@firma.example"
host = "imap.firma.example"
security = "starttls"
password_command = "pass show mail"
"""


def test_a_valid_file() -> None:
    config = parse(GOOD)
    assert config.settings_keys == ("own_addresses", "default_visibility")
    assert config.settings.default_visibility == "team"
    maildir, imap = config.mailboxes
    assert isinstance(maildir.params, t.MaildirAddParams) and maildir.line == 6
    assert isinstance(imap.params, t.ImapAddParams) and imap.line == 11
    assert imap.params.security == "starttls"
    assert imap.password_command == "pass show mail"
    assert maildir.password_command is None


def test_the_database_is_read() -> None:
    config = parse('database = "postgresql:///loggbok?host=/run/postgresql"\n' + GOOD)
    assert config.database == "postgresql:///loggbok?host=/run/postgresql"
    assert parse(GOOD).database is None


def test_an_empty_file_manages_nothing() -> None:
    config = parse("# nothing yet\n")
    assert config.settings_keys == () and config.mailboxes == ()


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("[settings]\nown_addresses = [\n", 2, "not valid TOML"),
        ("[settings]\nbcc_address = 'log@x.example'\nnever_log = ['nope']\n", 3, "never_log"),
        ("[settings]\n\nown_addresses = ['not an address']\n", 3, "own_addresses"),
        ("[settings]\nbody_limit_bytes = 'big'\n", 2, "body_limit_bytes"),
        ("[settings]\nlogging_mode = 'all'\n", 2, "logging_mode"),
        ("[settings]\ncolour = 'red'\n", 2, "unknown key 'colour'"),
        ("[setings]\nx = 1\n", 1, "unknown table"),
        (GOOD.replace('password_command = "pass show mail"', 'password = "hunter2"'), 16,
         "password does not belong"),
        (GOOD.replace('security = "starttls"', 'security = "ssl"'), 15, "security"),
        (GOOD.replace('path = "~/Mail/work"', 'host = "x"'), 9, "host"),
        (GOOD.replace('provider = "imap"', 'provider = "pop3"'), 12, "pop3"),
        (GOOD.replace('host = "imap.firma.example"\n', ""), 11, "host is required"),
        (GOOD + '\n[[mailboxes]]\nprovider = "maildir"\naddress = "ME@firma.example"\n'
         'path = "/x"\n', 18, "declared twice"),
        (GOOD.replace('path = "~/Mail/work"', 'path = "/m"\npassword_command = "x"'), 10,
         "takes no password"),
        ('[[mailboxes]]\nprovider = "maildir"\naddress = "nobody"\npath = "/m"\n', 3,
         "not an address"),
        ("# team\ndatabase = 5\n", 2, "database must be a URL"),
    ],
)  # fmt: skip
def test_each_mistake_is_one_error_with_its_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ConfigInvalid) as caught:
        parse(text)
    assert caught.value.line == line, caught.value
    assert words in caught.value.message
    assert "hunter2" not in str(caught.value)


GRAPH = '[[mailboxes]]\nprovider = "graph"\naddress = "me@firma.example"\n'


def test_a_graph_mailbox_needs_a_client_id_before_anything_is_applied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from loggbok.daemon.config.apply import plan
    from loggbok.daemon.sync.providers.graph.provider import CLIENT_ID_ENV

    monkeypatch.delenv(CLIENT_ID_ENV, raising=False)
    with pytest.raises(ConfigInvalid) as caught:
        plan(parse("[settings]\nbody_limit_bytes = 1\n\n" + GRAPH))
    assert caught.value.line == 4 and "client" in caught.value.message
    (planned,) = plan(parse(GRAPH + 'client_id = "abc-123"\n'))
    assert planned.config["client_id"] == "abc-123" and planned.provider.name == "graph"
    with pytest.raises(ConfigInvalid, match="takes no password"):
        parse(GRAPH + 'password_command = "pass show x"\n')
