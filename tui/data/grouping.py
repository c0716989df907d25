"""Group unlogged messages by reason, biggest group first, newest first inside a group."""

from __future__ import annotations

from collections import defaultdict

from loggbok.protocol import types as t


def by_reason(messages: list[t.MessageSummary]) -> list[tuple[str, list[t.MessageSummary]]]:
    groups: dict[str, list[t.MessageSummary]] = defaultdict(list)
    for msg in messages:
        groups[msg.reason].append(msg)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return [(reason, sorted(msgs, key=lambda m: m.date, reverse=True)) for reason, msgs in ordered]
