"""Generate the man pages `docs/man/loggbok.1` and `docs/man/loggbokd.1` from the
two commands' argparse parsers, so the pages say what the commands accept.

    python -m tools.manpages          # rewrite both
    python -m tools.manpages --check  # exit 1 when a committed page is stale (a test runs it)

The pages are installed with the package (`share/man/man1`, pyproject's
data-files). Sections beyond the parser (exit status, environment, files) are
written here; `docs/cli.md` says the same at more length.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from loggbok.daemon import __version__
from loggbok.daemon.cli import build_parser as daemon_parser
from loggbok.tui.cli import build_parser as client_parser

ROOT = Path(__file__).resolve().parents[1]
MAN_DIR = ROOT / "docs" / "man"
DATE = "2026"

EXTRA: dict[str, dict[str, str]] = {
    "loggbok": {
        "EXIT STATUS": """.TP
.B 0
success
.TP
.B 1
the daemon answered with an error (printed on stderr as
.IR "error CODE: message" ),
no daemon answers on the socket, a file cannot be read, or the daemon could not be started
.TP
.B 2
a command-line mistake (an unknown option, a malformed key=value)""",
        "ENVIRONMENT": """.TP
.B XDG_RUNTIME_DIR
the socket is $XDG_RUNTIME_DIR/loggbok/daemon.sock
.TP
.B XDG_CONFIG_HOME
where
.B service install
writes the systemd units (systemd/user/)
.TP
.B NO_COLOR
the terminal UI draws without colour; the commands never print colour""",
        "EXAMPLES": """.nf
loggbok call settings.set own_addresses='["me@firma.example"]'
loggbok call mailboxes.add provider=maildir path=~/Mail address=me@firma.example
loggbok export \\-\\-format mbox > logged.mbox
loggbok backup ~/backups/loggbok
loggbok service install && systemctl \\-\\-user enable \\-\\-now loggbokd.socket
.fi""",
        "SEE ALSO": ".BR loggbokd (1)",
    },
    "loggbokd": {
        "EXIT STATUS": """.TP
.B 0
stopped in order (SIGTERM, SIGINT), or a restore done
.TP
.B 1
cannot start: the database is unusable, the socket systemd passed is not the one to serve,
or a restore was refused
.TP
.B 2
a command-line mistake, or another loggbokd already serves the socket or uses the data dir""",
        "SIGNALS": """.TP
.B SIGTERM, SIGINT
stop in order
.TP
.B SIGHUP
read the config file again""",
        "ENVIRONMENT": """.TP
.B XDG_RUNTIME_DIR, XDG_DATA_HOME, XDG_CONFIG_HOME
the default socket, data dir and config file
.TP
.B LISTEN_FDS, LISTEN_PID, NOTIFY_SOCKET, WATCHDOG_USEC, JOURNAL_STREAM
set by systemd: socket activation, readiness and watchdog, journal logging""",
        "FILES": """.TP
.I ~/.config/loggbok/config.toml
settings and mailboxes (see docs/config.md)
.TP
.I ~/.local/share/loggbok/
the database (loggbok.sqlite3), attachments (blobs/) and the log (loggbokd.log)
.TP
.I ~/.config/systemd/user/loggbokd.{service,socket}
written by
.B loggbok service install""",
        "SEE ALSO": ".BR loggbok (1)",
    },
}


def _escape(text: str) -> str:
    text = text.replace("\\", "\\\\").replace("-", "\\-")
    return "\n".join(
        "\\&" + line if line.startswith((".", "'")) else line for line in text.split("\n")
    )


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    if not action.help or action.help == argparse.SUPPRESS:
        return ""
    formatter = parser._get_formatter()
    return formatter._expand_help(action)


def _options(parser: argparse.ArgumentParser) -> list[str]:
    lines: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        if action.option_strings:
            metavar = ""
            if action.nargs != 0:
                metavar = " " + _escape(str(action.metavar or action.dest.upper()))
                if action.choices:
                    metavar = " " + _escape("{" + ",".join(map(str, action.choices)) + "}")
            flags = ", ".join(f"\\fB{_escape(o)}\\fR" for o in action.option_strings)
            lines += [".TP", f"{flags}\\fI{metavar}\\fR"]
        else:
            name = action.metavar or action.dest
            if action.choices:
                name = "{" + ",".join(map(str, action.choices)) + "}"
            lines += [".TP", f"\\fI{_escape(str(name))}\\fR"]
        lines.append(_escape(_help(parser, action)))
    return lines


def _commands(parser: argparse.ArgumentParser, prefix: str) -> list[str]:
    lines: list[str] = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {a.dest: a.help for a in action._choices_actions}
        for name, sub in action.choices.items():
            usage = sub.format_usage().removeprefix("usage: ").strip()
            lines += [".SS " + _escape(f"{prefix} {name}".strip()), ".nf", _escape(usage), ".fi"]
            if helps.get(name):
                lines += [".PP", _escape(str(helps[name]))]
            options = _options(sub)
            if options:
                lines += [".RS", *options, ".RE"]
            lines += _commands(sub, f"{prefix} {name}")
    return lines


def render(name: str, parser: argparse.ArgumentParser) -> str:
    summary = (parser.description or "").split(":")[0].split(".")[0]
    usage = parser.format_usage().removeprefix("usage: ").strip()
    lines = [
        f'.TH {name.upper()} 1 "{DATE}" "loggbok {__version__}" "User Commands"',
        ".SH NAME",
        f"{name} \\- {_escape(summary)}",
        ".SH SYNOPSIS",
        ".nf",
        _escape(usage),
        ".fi",
        ".SH DESCRIPTION",
        _escape(parser.description or ""),
        ".SH OPTIONS",
        *_options(parser),
    ]
    commands = _commands(parser, "")
    if commands:
        lines += [".SH COMMANDS", *commands]
    for section, body in EXTRA[name].items():
        lines += [f".SH {section}", body]
    return "\n".join(lines) + "\n"


def pages() -> dict[str, str]:
    # argparse wraps usage lines to the terminal: fix the width so pages do not depend on it
    import os

    os.environ["COLUMNS"] = "100"
    return {
        "loggbok.1": render("loggbok", client_parser()),
        "loggbokd.1": render("loggbokd", daemon_parser()),
    }


def main(argv: list[str] | None = None) -> int:
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    stale = []
    for file, text in pages().items():
        path = MAN_DIR / file
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(file)
        else:
            MAN_DIR.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale man pages: {', '.join(stale)}; run python -m tools.manpages", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
