"""Words a user understands, on the demo daemon: search hits mark the searched
words and keep their lines within the screen at 80×24; Why? tells a reply in an
untracked thread from a new email, with no rule number, thread id or reason code
outside "Details for support"."""

from __future__ import annotations

import re

from textual.widgets import Collapsible, DataTable, OptionList, Static

from loggbok.protocol import methods
from loggbok.protocol import types as t
from loggbok.protocol.client import Client
from loggbok.tui.app import build_app
from loggbok.tui.screens.contacts import ContactsScreen
from loggbok.tui.screens.search import SearchScreen
from loggbok.tui.screens.why import WhyScreen
from loggbok.tui.widgets.entry_render import MATCH_STYLE
from loggbok.tui.widgets.evidence import EvidenceGrid

from .conftest import DemoDaemon, screen_of, until

WIDTH = 80


async def test_search_hits_mark_the_words_and_fit(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    expected = await script_client.call(
        methods.MESSAGES_SEARCH, t.MessagesSearchParams(query="pilot", limit=200)
    )
    assert expected.hits
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=(WIDTH, 24)):
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await app.switch_mode("search")
        screen = await screen_of(app, SearchScreen)
        screen.search("pilot")
        results = screen.query_one(OptionList)
        await until(lambda: results.option_count == len(expected.hits))
        marked = 0
        for index in range(results.option_count):
            content = results.get_option_at_index(index).prompt
            lines = content.split("\n")  # type: ignore[union-attr]
            assert all(line.cell_length <= WIDTH - 4 for line in lines)
            assert all(line.plain.startswith("  ") for line in lines[1:])
            for span in content.spans:  # type: ignore[union-attr]
                if str(span.style) == MATCH_STYLE:
                    assert content.plain[span.start : span.end].lower() == "pilot"
                    marked += 1
        visible = [
            h for h in expected.hits if re.search(r"\bpilot\b", f"{h.subject} {h.snippet}", re.I)
        ]
        assert visible and marked >= len(visible)


async def test_message_ids_as_received(script_client: Client) -> None:
    """Why? names the message a reply answers by its Message-ID as its mail carried it
    (the thread index keeps it in lower case)."""
    listing = await script_client.call(
        methods.MESSAGES_LIST, t.MessagesListParams(logged=True, limit=200)
    )
    mixed = 0
    for msg in listing.messages:
        expl = await script_client.call(methods.MESSAGES_EXPLAIN, t.MessageRefParams(id=msg.id))
        if expl.evidence.matched_id is None:
            continue
        answered = await script_client.call(
            methods.MESSAGES_GET, t.MessageRefParams(id=expl.evidence.matched_id)
        )
        assert expl.evidence.matched_message_id == answered.message_id
        mixed += answered.message_id != answered.message_id.lower()
    assert mixed, "the demo has no reply to a Message-ID in mixed case"


async def _untracked_reply(client: Client) -> t.Explanation:
    listing = await client.call(
        methods.MESSAGES_LIST,
        t.MessagesListParams(logged=False, reason="not_in_tracked_thread", limit=200),
    )
    for msg in listing.messages:
        expl = await client.call(methods.MESSAGES_EXPLAIN, t.MessageRefParams(id=msg.id))
        if expl.evidence.details.get("answers"):
            return expl
    raise AssertionError("the demo has no reply in an untracked thread")


async def test_why_tells_a_reply_in_an_untracked_thread(
    demo_daemon: DemoDaemon, script_client: Client
) -> None:
    expl = await _untracked_reply(script_client)
    app = build_app(demo_daemon.socket)
    async with app.run_test(size=(WIDTH, 24)) as pilot:
        await until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.contacts)
        await app.push_screen(WhyScreen(expl.id))
        screen = await screen_of(app, WhyScreen)
        await until(lambda: screen.explanation is not None)
        await pilot.pause()
        verdict = str(screen.query_one("#why-verdict", Static).render())
        summary = str(screen.query_one("#why-summary", Static).render())
        assert verdict == "Not logged — Reply in a thread that is not tracked"
        assert "you did not send the first message with your logging address" in summary
        assert screen.query_one("#fix-log_manually")
        evidence = screen.query_one(EvidenceGrid)
        shown = " ".join(f"{name} {value}" for name, value in evidence.rows)
        assert expl.evidence.details["answers"] in shown  # the Message-ID as received
        thread = f"Thread {expl.evidence.thread_id}"
        for code in (f"Rule {expl.evidence.rule}", expl.evidence.rule, "not_in_tracked", thread):
            assert code not in f"{verdict} {summary} {shown}"
        assert screen.query_one("#why-support", Collapsible).collapsed
        support = screen.query_one("#why-support-table", DataTable)
        kept = " ".join(
            str(cell) for row in range(support.row_count) for cell in support.get_row_at(row)
        )
        assert expl.evidence.rule in kept and "not_in_tracked_thread" in kept
