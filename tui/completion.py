"""Shell completion for `loggbok`: `loggbok completion bash|zsh|fish` prints a
script; the script completes subcommands itself, and method and parameter names
of `loggbok call` by asking `loggbok _complete methods|params METHOD`, which reads
them from the daemon's `rpc.discover` (the daemon's own methods, whatever its
version), or from this client's copy of the protocol when no daemon answers.

    loggbok completion bash > ~/.local/share/bash-completion/completions/loggbok
    loggbok completion zsh > ~/.zfunc/_loggbok        # with fpath+=(~/.zfunc)
    loggbok completion fish > ~/.config/fish/completions/loggbok.fish
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from loggbok.protocol import methods, openrpc
from loggbok.protocol.client import Client

SHELLS = ("bash", "zsh", "fish")
ASK_SECONDS = 2.0
SUBCOMMANDS = (
    "call",
    "status",
    "demo",
    "tui",
    "service",
    "export",
    "import",
    "backup",
    "completion",
)


async def _discover(socket: Path) -> dict[str, Any]:
    try:
        async with asyncio.timeout(ASK_SECONDS):
            async with await Client.connect(socket) as client:
                document: dict[str, Any] = await client.call(methods.DISCOVER)
                return document
    except (OSError, TimeoutError, ConnectionError):
        return openrpc.build()


def words(socket: Path, what: str, method: str | None) -> list[str]:
    """Method names, or the parameter names of `method` (each followed by `=`)."""
    document = asyncio.run(_discover(socket))
    entries = {m["name"]: m for m in document.get("methods", [])}
    if what == "methods":
        return sorted(entries)
    entry = entries.get(method or "")
    if entry is None:
        return []
    return [f"{p['name']}=" for p in entry.get("params", [])]


BASH = r"""# bash completion for loggbok (loggbok completion bash)
_loggbok() {
    local cur=${COMP_WORDS[COMP_CWORD]} cmd="" method="" sock=() i w
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
            --socket) sock=(--socket "${COMP_WORDS[i+1]}"); ((i++)); continue ;;
            --data-dir) ((i++)); continue ;;
            -*) continue ;;
        esac
        if [[ -z $cmd ]]; then cmd=$w
        elif [[ $cmd == call && -z $method ]]; then method=$w
        fi
    done
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "SUBCOMMANDS --socket --data-dir --version --help" -- "$cur"))
        return
    fi
    case $cmd in
        call)
            local known
            if [[ -z $method ]]; then
                known=$(loggbok "${sock[@]}" _complete methods 2>/dev/null)
            else
                compopt -o nospace 2>/dev/null
                known=$(loggbok "${sock[@]}" _complete params "$method" 2>/dev/null)
            fi
            COMPREPLY=($(compgen -W "$known" -- "$cur")) ;;
        export) COMPREPLY=($(compgen -W "--format --contact --since jsonl mbox csv" -- "$cur")) ;;
        import) COMPREPLY=($(compgen -f -W "--format jsonl -" -- "$cur")) ;;
        backup) COMPREPLY=($(compgen -d -- "$cur")) ;;
        service) COMPREPLY=($(compgen -W "install --print" -- "$cur")) ;;
        completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")) ;;
    esac
}
complete -F _loggbok loggbok
"""

ZSH = r"""#compdef loggbok
# zsh completion for loggbok (loggbok completion zsh)
_loggbok() {
    local -a sock
    local cmd method i
    for ((i = 2; i < CURRENT; i++)); do
        case ${words[i]} in
            --socket) sock=(--socket ${words[i+1]}); ((i++)); continue ;;
            --data-dir) ((i++)); continue ;;
            -*) continue ;;
        esac
        if [[ -z $cmd ]]; then cmd=${words[i]}
        elif [[ $cmd == call && -z $method ]]; then method=${words[i]}
        fi
    done
    if [[ -z $cmd ]]; then
        compadd -- SUBCOMMANDS
        return
    fi
    case $cmd in
        call)
            if [[ -z $method ]]; then
                compadd -- ${(f)"$(loggbok $sock _complete methods 2>/dev/null)"}
            else
                compadd -S '' -- ${(f)"$(loggbok $sock _complete params $method 2>/dev/null)"}
            fi ;;
        export) compadd -- --format --contact --since jsonl mbox csv ;;
        import) _files ;;
        backup) _directories ;;
        service) compadd -- install --print ;;
        completion) compadd -- bash zsh fish ;;
    esac
}
compdef _loggbok loggbok
"""

FISH = r"""# fish completion for loggbok (loggbok completion fish)
function __loggbok_socket
    set -l words (commandline -opc)
    set -l i (contains -i -- --socket $words)
    and echo --socket $words[(math $i + 1)]
end
function __loggbok_method
    set -l words (commandline -opc)
    set -l i (contains -i -- call $words)
    and test (count $words) -gt $i
    and echo $words[(math $i + 1)]
end
complete -c loggbok -f
complete -c loggbok -n __fish_use_subcommand -a "SUBCOMMANDS"
complete -c loggbok -n "__fish_seen_subcommand_from call; and not __loggbok_method" \
    -a "(loggbok (__loggbok_socket) _complete methods 2>/dev/null)"
complete -c loggbok -n "__fish_seen_subcommand_from call; and __loggbok_method" \
    -a "(loggbok (__loggbok_socket) _complete params (__loggbok_method) 2>/dev/null)"
complete -c loggbok -n "__fish_seen_subcommand_from export" -l format -xa "jsonl mbox csv"
complete -c loggbok -n "__fish_seen_subcommand_from service" -a install
complete -c loggbok -n "__fish_seen_subcommand_from completion" -a "bash zsh fish"
"""


def script(shell: str) -> str:
    template = {"bash": BASH, "zsh": ZSH, "fish": FISH}[shell]
    return template.replace("SUBCOMMANDS", " ".join(SUBCOMMANDS))
