"""Modal dialogs: small forms that return a value to the screen that opened them."""
