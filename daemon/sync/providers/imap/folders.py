"""IMAP folder names and roles: modified UTF-7, LIST and NAMESPACE parsing, roles.

Pure code. `parse_list` reads `* LIST (flags) "delim" name` responses (names
quoted, atoms or literals, in modified UTF-7); `assign_roles` gives INBOX,
Sent, Junk, Trash, Drafts and All their roles: the SPECIAL-USE attribute first,
else a localised name. Every other selectable folder gets role "other".
"""

from __future__ import annotations

from dataclasses import dataclass

from loggbok.daemon.sync.backend import SENT_NAMES, Folder, FolderRole
from loggbok.daemon.sync.folder_choice import SPECIAL_USE, role_by_name
from loggbok.daemon.sync.mutf7 import decode_mutf7, encode_mutf7
from loggbok.daemon.sync.providers.imap.responses import Response, parse_values

__all__ = ["ListedFolder", "assign_roles", "decode_mutf7", "encode_mutf7", "parse_list"]

_NOSELECT = {"\\NOSELECT", "\\NONEXISTENT"}


@dataclass(frozen=True, slots=True)
class ListedFolder:
    name: str
    """Decoded (UTF-8) name; commands encode it again."""
    delimiter: str | None
    flags: frozenset[str]
    """Upper-cased flags, e.g. `\\SENT`, `\\HASNOCHILDREN`."""

    @property
    def selectable(self) -> bool:
        return not (self.flags & _NOSELECT)


def parse_list(response: Response) -> ListedFolder | None:
    """A `* LIST` response as a ListedFolder; None for any other response."""
    first = response.parts[0]
    if first[:7].upper() != b"* LIST ":
        return None
    values = parse_values(response.parts, 7)
    if len(values) < 3 or not isinstance(values[0], list):
        return None
    flags = frozenset(str(f).upper() for f in values[0] if isinstance(f, str))
    delimiter = values[1].decode() if isinstance(values[1], bytes) else None
    raw = values[2]
    if isinstance(raw, str | bytes):
        name = decode_mutf7(raw)
    else:
        return None
    if name.upper() == "INBOX":
        name = "INBOX"
    return ListedFolder(name, delimiter, flags)


def _leaf(folder: ListedFolder) -> str:
    name = folder.name
    if folder.delimiter and name.upper().startswith("INBOX" + folder.delimiter):
        name = name[len("INBOX") + len(folder.delimiter) :]
    return name.casefold()


def _path(folder: ListedFolder) -> str:
    """The name with "/" between levels, as exclusions and labels name folders."""
    if folder.delimiter and folder.delimiter != "/":
        return folder.name.replace(folder.delimiter, "/")
    return folder.name


def _special_use(folder: ListedFolder) -> FolderRole | None:
    for flag, role in SPECIAL_USE.items():
        if flag in folder.flags:
            return role
    return None


def assign_roles(listed: list[ListedFolder], shared: tuple[str, ...] = ()) -> list[Folder]:
    """INBOX; Sent (`\\Sent`, else the best localised name); junk, trash, drafts and
    all (their SPECIAL-USE attribute, else a localised name: `folder_choice.py`);
    "shared" under one of the `shared` prefixes (other users' and public namespaces);
    the rest "other"."""
    usable = [f for f in listed if f.selectable]
    own = [f for f in usable if not _under(f, shared)]
    sent: ListedFolder | None = next((f for f in own if "\\SENT" in f.flags), None)
    if sent is None:
        rank = {name: i for i, name in enumerate(SENT_NAMES)}
        candidates = [f for f in own if _leaf(f) in rank and f.name != "INBOX"]
        if candidates:
            sent = min(candidates, key=lambda f: rank[_leaf(f)])
    folders: list[Folder] = []
    seen: set[str] = set()
    for f in usable:
        if f.name in seen:
            continue
        seen.add(f.name)
        role: FolderRole | None
        if f.name == "INBOX":
            role = "inbox"
        elif _under(f, shared):
            role = "shared"
        elif sent is not None and f.name == sent.name:
            role = "sent"
        else:
            role = _special_use(f)
            if role is None or role == "sent":  # a second \\Sent is just a folder
                role = role_by_name(_path(f)) or "other"
        path = _path(f)
        folders.append(Folder(f.name, role, path if path != f.name else ""))
    if "INBOX" not in seen:
        folders.insert(0, Folder("INBOX", "inbox"))
    return folders


def _under(folder: ListedFolder, prefixes: tuple[str, ...]) -> bool:
    return any(p and folder.name.startswith(p) for p in prefixes)


def parse_namespace(response: Response) -> tuple[str, ...]:
    """The prefixes of the other users' and shared namespaces of a `* NAMESPACE`
    response (RFC 2342); () for any other response."""
    if response.first[:12].upper() != b"* NAMESPACE ":
        return ()
    values = parse_values(response.parts, 12)
    prefixes: list[str] = []
    for group in values[1:3]:
        if not isinstance(group, list):
            continue
        for entry in group:
            if isinstance(entry, list) and entry and isinstance(entry[0], str | bytes):
                prefix = decode_mutf7(entry[0])
                if prefix:
                    prefixes.append(prefix)
    return tuple(prefixes)
