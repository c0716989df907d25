"""Which folders are synced: roles from SPECIAL-USE, else localised names, for IMAP
and Maildir; the user's exclusions; Gmail's All Mail alone when labels are offered."""

from __future__ import annotations

from pathlib import Path

import pytest

from loggbok.daemon.sync.backend import Folder
from loggbok.daemon.sync.folder_choice import chosen, excluded, role_by_name, skipped_by_labels
from loggbok.daemon.sync.providers.imap.folders import ListedFolder, assign_roles
from loggbok.daemon.sync.providers.maildir.backend import MaildirBackend, display_path, scan_folders
from tests.support.mail import make_maildir


def listed(name: str, *flags: str, delimiter: str = "/") -> ListedFolder:
    return ListedFolder(name, delimiter, frozenset(f.upper() for f in flags))


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("Junk", "junk"),
        ("Spam", "junk"),
        ("Skräppost", "junk"),
        ("Spam-E-Mail", "junk"),
        ("Courrier indésirable", "junk"),
        ("Correo no deseado", "junk"),
        ("Нежелательная почта", "junk"),
        ("INBOX/Junk E-mail", "junk"),
        ("Trash", "trash"),
        ("Deleted Items", "trash"),
        ("Papperskorgen", "trash"),
        ("Borttagna objekt", "trash"),
        ("Papierkorb", "trash"),
        ("Gelöschte Elemente", "trash"),
        ("Corbeille", "trash"),
        ("Papelera", "trash"),
        ("Корзина", "trash"),
        ("[Gmail]/Bin", "trash"),
        ("Drafts", "drafts"),
        ("Utkast", "drafts"),
        ("Entwürfe", "drafts"),
        ("Brouillons", "drafts"),
        ("Borradores", "drafts"),
        ("Черновики", "drafts"),
        ("[Gmail]/All Mail", "all"),
        ("Customers/ACME", None),
        ("Archive", None),
        ("Projects/All Mail", None),
        ("Sent", None),
    ],
)
def test_roles_by_localised_name(name: str, role: str | None) -> None:
    assert role_by_name(name) == role


def test_special_use_first_then_names() -> None:
    folders = assign_roles(
        [
            listed("INBOX"),
            listed("Sent", "\\Sent"),
            listed("Bulk", "\\Junk"),  # SPECIAL-USE says junk whatever the name
            listed("Papierkorb"),  # no attribute: the name says trash
            listed("Entwürfe"),
            listed("Customers/ACME"),
            listed("Archive", "\\Archive"),
            listed("Customers", "\\Noselect"),
        ]
    )
    assert [(f.name, f.role) for f in folders] == [
        ("INBOX", "inbox"),
        ("Sent", "sent"),
        ("Bulk", "junk"),
        ("Papierkorb", "trash"),
        ("Entwürfe", "drafts"),
        ("Customers/ACME", "other"),
        ("Archive", "other"),
    ]
    assert [f.name for f in chosen(folders, [], labels=False)] == [
        "INBOX",
        "Sent",
        "Customers/ACME",
        "Archive",
    ]


def test_a_dot_delimited_server_reads_as_slash_paths() -> None:
    [_, acme] = assign_roles([listed("INBOX"), listed("INBOX.Customers.ACME", delimiter=".")])
    assert acme == Folder("INBOX.Customers.ACME", "other", "INBOX/Customers/ACME")
    assert excluded(acme.display, ["INBOX/Customers"])


def test_exclusions_are_names_or_patterns_and_take_subfolders() -> None:
    assert excluded("Newsletters", ["newsletters"])
    assert excluded("Lists/python-dev", ["Lists"])
    assert excluded("Lists/python-dev", ["lists/*"])
    assert excluded("Customers/Old/2019", ["Customers/Old"])
    assert excluded("Archive/2019", ["Archive/20??"])
    assert excluded("Kunder/Gamla/x", ["*/gamla"])
    assert not excluded("Customers/ACME", ["Customers/AC"])
    assert not excluded("Newsletters2", ["Newsletters"])
    folders = [
        Folder("INBOX", "inbox"),
        Folder("Sent", "sent"),
        Folder("Newsletters", "other"),
        Folder("Customers/ACME", "other"),
    ]
    # INBOX and Sent are never excluded, even by a pattern that names everything
    assert [f.name for f in chosen(folders, ["*"], labels=False)] == ["INBOX", "Sent"]
    assert [f.name for f in chosen(folders, ["newsletters"], labels=False)] == [
        "INBOX",
        "Sent",
        "Customers/ACME",
    ]


def test_all_mail_alone_with_labels_and_never_without() -> None:
    folders = [
        Folder("INBOX", "inbox"),
        Folder("[Gmail]/Sent Mail", "sent"),
        Folder("[Gmail]/All Mail", "all"),
        Folder("[Gmail]/Spam", "junk"),
        Folder("Customers/ACME", "other"),
    ]
    assert chosen(folders, [], labels=True) == [Folder("[Gmail]/All Mail", "all")]
    # a server's virtual "all" folder would hold Junk and Trash too
    assert [f.name for f in chosen(folders, [], labels=False)] == [
        "INBOX",
        "[Gmail]/Sent Mail",
        "Customers/ACME",
    ]


def test_labels_skip_drafts_and_all_excluded() -> None:
    assert skipped_by_labels(["\\Draft"], [])
    assert skipped_by_labels(["Newsletters"], ["Newsletters"])
    assert not skipped_by_labels(["Newsletters", "Customers/ACME"], ["Newsletters"])
    assert not skipped_by_labels(["INBOX", "Newsletters"], ["Newsletters"])
    assert not skipped_by_labels([], ["*"])  # archived: in All Mail only
    assert not skipped_by_labels(["\\Important", "Customers/ACME"], [])


def test_maildir_folders_plus_plus_nested_and_plain(tmp_path: Path) -> None:
    root = make_maildir(
        tmp_path / "Mail",
        ".Sent",
        ".Junk",
        ".Trash",
        ".Drafts",
        ".Customers",
        ".Customers.ACME",
        ".Skr&AOQ-ppost",  # Dovecot writes names in modified UTF-7
        "Projects",
        "Projects/Offers",
        "Projects/Offers/2024",
    )
    (root / ".Customers.Empty").mkdir()  # no cur/ new/ yet: not a folder
    found = scan_folders(root)
    assert sorted(found) == [
        ".Customers",
        ".Customers.ACME",
        ".Drafts",
        ".Junk",
        ".Sent",
        ".Skr&AOQ-ppost",
        ".Trash",
        "INBOX",
        "Projects",
        "Projects/Offers",
        "Projects/Offers/2024",
    ]
    assert display_path(".Customers.ACME") == "Customers/ACME"
    assert display_path(".Skr&AOQ-ppost") == "Skräppost"


async def test_maildir_roles_and_choice(tmp_path: Path) -> None:
    root = make_maildir(tmp_path / "Mail", ".Sent", ".Spam", ".Papierkorb", ".Utkast", ".A.B")
    backend = MaildirBackend(root, force_polling=True)
    try:
        await backend.connect()
        folders = await backend.folders()
        assert {f.name: f.role for f in folders} == {
            "INBOX": "inbox",
            ".Sent": "sent",
            ".Spam": "junk",
            ".Papierkorb": "trash",
            ".Utkast": "drafts",
            ".A.B": "other",
        }
        assert [f.display for f in chosen(folders, [], labels=False)] == ["INBOX", "A/B", "Sent"]
    finally:
        await backend.close()


def test_other_users_and_shared_folders_are_not_synced() -> None:
    from loggbok.daemon.sync.providers.imap.folders import parse_namespace
    from loggbok.daemon.sync.providers.imap.responses import Response

    prefixes = parse_namespace(
        Response([b'* NAMESPACE (("" "/")) (("Other Users/" "/")) (("Public/" "/"))'])
    )
    assert prefixes == ("Other Users/", "Public/")
    assert parse_namespace(Response([b'* NAMESPACE (("" "/")) NIL NIL'])) == ()
    folders = assign_roles(
        [
            listed("INBOX"),
            listed("Other Users/boss/Sent", "\\Sent"),
            listed("Public/Support"),
            listed("Sent"),
        ],
        prefixes,
    )
    assert [(f.name, f.role) for f in folders] == [
        ("INBOX", "inbox"),
        ("Other Users/boss/Sent", "shared"),
        ("Public/Support", "shared"),
        ("Sent", "sent"),
    ]
    assert [f.name for f in chosen(folders, [], labels=False)] == ["INBOX", "Sent"]
