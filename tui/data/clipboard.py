"""Whether the terminal is known to take a copy (OSC 52), and what to say after one.

Textual copies with OSC 52, which many terminals ignore without a word (and
tmux, by default, keeps from the terminal). loggbok says "copied" only where
the terminal is known to accept it: kitty, WezTerm, iTerm2, foot, Alacritty,
Ghostty, Windows Terminal, Konsole (22.04+) or tmux with `set-clipboard on`
cannot be told apart from the rest by asking, so they are named by their
environment; `LOGGBOK_OSC52=1` (or `0`) says it for any other. Elsewhere the
user is told where the text can be found.
"""

from __future__ import annotations

from collections.abc import Mapping

KNOWN_PROGRAMS = frozenset({"iTerm.app", "WezTerm", "ghostty", "WarpTerminal"})
KNOWN_TERMS = ("xterm-kitty", "wezterm", "foot", "alacritty", "xterm-ghostty")
KNOWN_VARIABLES = ("KITTY_WINDOW_ID", "WEZTERM_EXECUTABLE", "WT_SESSION", "ALACRITTY_WINDOW_ID")


def osc52_known(environ: Mapping[str, str]) -> bool:
    """True when the terminal is known to put OSC 52 text on the clipboard."""
    told = environ.get("LOGGBOK_OSC52", "").strip().lower()
    if told in ("1", "yes", "true", "on"):
        return True
    if told in ("0", "no", "false", "off"):
        return False
    if environ.get("TMUX"):
        return False  # tmux passes it on only with `set-clipboard on`: say LOGGBOK_OSC52=1
    if environ.get("TERM_PROGRAM", "") in KNOWN_PROGRAMS:
        return True
    if environ.get("TERM", "").startswith(KNOWN_TERMS):
        return True
    return any(environ.get(name) for name in KNOWN_VARIABLES)


def copied_words(known: bool, what: str, where: str) -> str:
    """ "The code was copied to the clipboard." or where to find it when that is not known."""
    if known:
        return f"{what} was copied to the clipboard."
    return (
        f"{what} is {where}: select it with the mouse to copy it (this terminal is not"
        " known to take a copy from loggbok; LOGGBOK_OSC52=1 says it does)."
    )
