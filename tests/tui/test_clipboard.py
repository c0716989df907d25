""" "Copied" only where the terminal is known to take OSC 52 (`data/clipboard.py`)."""

from __future__ import annotations

import pytest

from loggbok.tui.data.clipboard import copied_words, osc52_known


@pytest.mark.parametrize(
    ("environ", "known"),
    [
        ({"TERM": "xterm-kitty"}, True),
        ({"TERM_PROGRAM": "WezTerm"}, True),
        ({"TERM": "xterm-256color", "WT_SESSION": "x"}, True),
        ({"TERM": "xterm-256color"}, False),
        ({"TERM": "screen", "TMUX": "/tmp/tmux-1/default,1,0"}, False),
        ({"TERM": "xterm-256color", "LOGGBOK_OSC52": "1"}, True),
        ({"TERM": "xterm-kitty", "LOGGBOK_OSC52": "0"}, False),
    ],
)
def test_known_terminals(environ: dict[str, str], known: bool) -> None:
    assert osc52_known(environ) is known


def test_words() -> None:
    assert copied_words(True, "The code", "shown above") == "The code was copied to the clipboard."
    unknown = copied_words(False, "The code", "shown above")
    assert "copied" not in unknown and "shown above" in unknown
