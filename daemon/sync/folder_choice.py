"""Which folders a sync round reads: every folder but Junk, Trash and Drafts, and
not the ones the user excluded.

Pure code, shared by every backend, the sync round and `mailboxes.audit`.

Roles come from the server where it says (IMAP SPECIAL-USE: `\\Sent`, `\\Junk`,
`\\Trash`, `\\Drafts`, `\\All`), else from the folder's name in the languages
below (`role_by_name`, which backends without SPECIAL-USE and Maildirs use).
`chosen` keeps INBOX, Sent and every "other" folder (archives, folders the
user's own server rules file mail into) and leaves out:

  - junk, trash and drafts (not mail exchanged with anyone; Outbox and
    Templates count as drafts: not sent yet);
  - other users' and public folders (IMAP's "other users" and "shared"
    namespaces): not the user's own mail;
  - a folder other than INBOX and Sent that matches one of the user's
    `excluded_folders` patterns, or lies under one (a pattern names a folder
    path with "/" between levels, matched case-insensitively, `*` and `?` as
    in shell globs);
  - an `\\All` folder (a server's virtual "every message", which would also
    hold Junk and Trash), unless the source offers Gmail's labels
    (`Backend.labels`): then that folder alone is read, once, and the labels
    on each message say which folders it is in (Gmail shows every label as a
    folder too; reading them would only read the same messages again).

With labels, `skipped_by_labels` drops a message whose labels make it a draft
(or junk or trash, which Gmail keeps out of All Mail anyway), or whose every
label is excluded.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

from loggbok.daemon.sync.backend import SENT_NAMES, Folder, FolderRole

SKIPPED_ROLES: frozenset[FolderRole] = frozenset({"junk", "trash", "drafts", "shared"})

JUNK_NAMES = (
    "junk",
    "spam",
    "junk e-mail",
    "junk email",
    "junk mail",
    "bulk mail",
    "[gmail]/spam",
    "[google mail]/spam",
    "skräppost",
    "skräp",
    "spam-e-mail",
    "junk-e-mail",
    "uønsket e-post",
    "uønsket post",
    "roskaposti",
    "courrier indésirable",
    "pourriel",
    "indésirables",
    "correo no deseado",
    "correo basura",
    "lixo eletrônico",
    "posta indesiderata",
    "ongewenste e-mail",
    "wiadomości-śmieci",
    "нежелательная почта",
    "спам",
)
TRASH_NAMES = (
    "trash",
    "deleted items",
    "deleted messages",
    "deleted",
    "bin",
    "[gmail]/trash",
    "[gmail]/bin",
    "[google mail]/trash",
    "[google mail]/bin",
    "papperskorgen",
    "borttagna objekt",
    "borttagna meddelanden",
    "papierkorb",
    "gelöschte elemente",
    "gelöschte objekte",
    "corbeille",
    "éléments supprimés",
    "papelera",
    "elementos eliminados",
    "lixeira",
    "itens excluídos",
    "cestino",
    "posta eliminata",
    "prullenbak",
    "verwijderde items",
    "kosz",
    "slettet",
    "slettede elementer",
    "papirkurv",
    "roskakori",
    "корзина",
    "удаленные",
    "удалённые",
)
DRAFTS_NAMES = (
    "drafts",
    "draft",
    "[gmail]/drafts",
    "[google mail]/drafts",
    "utkast",
    "kladder",
    "luonnokset",
    "entwürfe",
    "brouillons",
    "borradores",
    "rascunhos",
    "bozze",
    "concepten",
    "kopie robocze",
    "черновики",
    "outbox",
    "unsent messages",
    "postausgang",
    "boîte d'envoi",
    "bandeja de salida",
    "utkorgen",
    "исходящие",
    "templates",
    "vorlagen",
    "modèles",
)
ALL_NAMES = ("[gmail]/all mail", "[google mail]/all mail")
"""Gmail's All Mail where a server does not flag it `\\All`."""

_BY_NAME: dict[str, FolderRole] = {
    **{n: "drafts" for n in DRAFTS_NAMES},
    **{n: "trash" for n in TRASH_NAMES},
    **{n: "junk" for n in JUNK_NAMES},
    **{n: "all" for n in ALL_NAMES},
}

SPECIAL_USE: dict[str, FolderRole] = {
    "\\SENT": "sent",
    "\\JUNK": "junk",
    "\\TRASH": "trash",
    "\\DRAFTS": "drafts",
    "\\ALL": "all",
}
"""IMAP SPECIAL-USE attributes (RFC 6154, upper-cased) and the role each gives."""

SKIPPED_LABELS = frozenset({"\\draft", "\\spam", "\\trash", "\\junk"})
"""Gmail system labels (case-folded) of messages that are not synced."""


def role_by_name(path: str, *, inbox_prefix: bool = True) -> FolderRole | None:
    """Junk, trash, drafts or all by a folder's name ("/" between levels), or None.

    The whole path is tried, then its last level (`INBOX/Spam`, `Archiv/Papierkorb`
    are what they say); Sent is left to the caller (one Sent per mailbox)."""
    cleaned = path.casefold()
    if inbox_prefix and cleaned.startswith("inbox/"):
        cleaned = cleaned[len("inbox/") :]
    found = _BY_NAME.get(cleaned)
    if found is None and cleaned not in SENT_NAMES:
        found = _BY_NAME.get(cleaned.rsplit("/", 1)[-1])
        if found == "all":
            found = None  # "All Mail" means Gmail's only at the top of [Gmail]/
    return found


def excluded(path: str, patterns: Iterable[str]) -> bool:
    """Whether a folder ("/" between levels) matches an exclusion, or lies under one."""
    name = path.casefold()
    for pattern in patterns:
        wanted = pattern.strip().strip("/").casefold()
        if not wanted:
            continue
        if fnmatch.fnmatchcase(name, wanted) or name.startswith(wanted + "/"):
            return True
        if any(fnmatch.fnmatchcase(parent, wanted) for parent in _parents(name)):
            return True
    return False


def _parents(name: str) -> list[str]:
    levels = name.split("/")
    return ["/".join(levels[:i]) for i in range(1, len(levels))]


def chosen(folders: Sequence[Folder], patterns: Iterable[str], *, labels: bool) -> list[Folder]:
    """The folders a round reads, in the order given (see the module docstring)."""
    patterns = list(patterns)
    if labels:
        every = [f for f in folders if f.role == "all"]
        if every:
            return every[:1]
    return [
        f
        for f in folders
        if f.role not in SKIPPED_ROLES
        and f.role != "all"
        and (f.role in ("inbox", "sent") or not excluded(f.display, patterns))
    ]


def skipped_by_labels(labels: Sequence[str], patterns: Iterable[str]) -> bool:
    """A message read with its labels (Gmail) that is not to be synced: a draft,
    junk or trash, or one whose every place is excluded (its places: its user labels,
    and `\\Inbox` and `\\Sent`, which are never excluded; a message with none is
    archived, and read)."""
    folded = {label.casefold() for label in labels}
    if folded & SKIPPED_LABELS:
        return True
    if folded & {"\\inbox", "\\sent"}:
        return False
    named = [label for label in labels if not label.startswith("\\")]
    patterns = list(patterns)
    return bool(named) and all(excluded(label, patterns) for label in named)
