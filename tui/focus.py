"""Keys while a text field has focus: there every printable key is text.

A key that types a character (a letter, `/`, `,`, `?`, space) goes to the
focused `Input` or `TextArea`, never to a binding. So that the footer does not
offer what the keyboard cannot do, `hidden_while_typing` tells a screen's or
the app's `check_action` to hide bindings on such keys while a field has
focus; the app's Esc ("Leave field", shown then) moves focus out of the
field, after which the view keys work again. Modal dialogs keep their own
Esc (Cancel/Close) and see no app keys at all.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.dom import DOMNode
from textual.keys import REPLACED_KEYS, key_to_character
from textual.widget import Widget
from textual.widgets import Input, TextArea

TEXT_FIELDS: tuple[type[Widget], ...] = (Input, TextArea)


def typing(app: App[Any]) -> bool:
    """Whether the focused widget takes text."""
    return isinstance(app.focused, TEXT_FIELDS)


def types_text(key: str) -> bool:
    """Whether `key` types a character in a text field (`a`, `slash`, `space`)."""
    char = key_to_character(REPLACED_KEYS.get(key, key))
    return char is not None and char.isprintable()


def hidden_while_typing(node: DOMNode, action: str) -> bool:
    """Whether `action` is bound on `node` only to keys a text field takes, and one has focus."""
    if not typing(node.app):
        return False
    keys = [
        binding.key
        for bindings in node._bindings.key_to_bindings.values()
        for binding in bindings
        if binding.action.partition("(")[0].rpartition(".")[2] == action
    ]
    return bool(keys) and all(types_text(k) for k in keys)
