"""Cutting a sync round's new messages into windows that are decided one after another.

A round decides messages in date order, and holds every new message's header
block and facts until then (~4 KB each). Past `engine.WINDOW` new messages it
takes them in windows in the order they arrived, across the folders (arrival
from `Backend.arrival_times`: IMAP INTERNALDATE, a Maildir file's delivery
time), so that memory stays bounded and the windows keep the mail's order: a
contact created by a BCC'd mail (R2) exists for the mail that came after it.
Cutting each folder by share instead changed decisions (measured on a
400-message corpus), so shares are only the fallback of a source that knows no
arrival times.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from loggbok.daemon.store.mailboxes import FolderRow
from loggbok.daemon.sync.backend import Folder


@dataclass
class FolderWork:
    folder: Folder
    row: FolderRow
    cursor: dict[str, Any]
    new: list[str]
    """The folder's new remote ids, in its own order (in a window: that window's)."""
    total: int
    """New messages of the folder in the whole round."""
    offset: int = 0
    """Of those, how many came in earlier windows."""


def windows(
    work: list[FolderWork], size: int, arrived: list[dict[str, float]]
) -> list[list[FolderWork]]:
    """The round's new messages in windows of at most `size`, in arrival order across
    the folders (`arrived`: one map per folder); within a window each folder keeps
    its own order. A message of unknown arrival follows the one before it in its
    folder; when no arrival is known at all, every window takes the same share of
    each folder. Always at least one window, so the cursors are saved even then."""
    total = sum(len(w.new) for w in work)
    if total <= size:
        return [work]
    known = any(arrived)
    order: list[tuple[float, int, int]] = []
    for index, (folder_work, times) in enumerate(zip(work, arrived, strict=True)):
        last = float("-inf")
        for position, remote_id in enumerate(folder_work.new):
            share = position / len(folder_work.new)
            last = times.get(remote_id, last) if known else share
            order.append((last, index, position))
    order.sort()
    parts: list[list[FolderWork]] = []
    taken = [0] * len(work)
    for start in range(0, total, size):
        chosen: list[list[int]] = [[] for _ in work]
        for _, index, position in order[start : start + size]:
            chosen[index].append(position)
        part = []
        for index, folder_work in enumerate(work):
            new = [folder_work.new[p] for p in sorted(chosen[index])]
            part.append(replace(folder_work, new=new, offset=taken[index]))
            taken[index] += len(new)
        parts.append(part)
    return parts
