#!/usr/bin/env bash
# The real `loggbok demo` in tmux: send keys through the main flows, capture
# each screen to a file, and fail when the text a flow must show is missing.
# Then a first run: `loggbok` on an empty data dir, through the checklist
# (import contacts, logging address, own addresses, a Maildir mailbox).
#
#   tests/tmux_demo.sh [OUTPUT_DIR]
#
# Runs with private XDG dirs (nothing of the user's is touched), stops the
# daemon it started, and leaves the captures in OUTPUT_DIR (default: a temp dir).
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
LOGGBOK=${LOGGBOK:-$HERE/.venv/bin/loggbok}
ROOT=$(mktemp -d /tmp/lbtmux-XXXXXX)
OUT=${1:-$ROOT/captures}
SESSION=loggbok-demo-$$
WIDTH=${WIDTH:-160}
HEIGHT=${HEIGHT:-48}
mkdir -p "$OUT"

export XDG_RUNTIME_DIR=$ROOT/run XDG_DATA_HOME=$ROOT/data
export LOGGBOK_DEMO_NOW=${LOGGBOK_DEMO_NOW:-2025-03-14T12:00:00+00:00}
mkdir -p -m 700 "$XDG_RUNTIME_DIR"

cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    tmux kill-session -t "$SESSION-first" 2>/dev/null || true
    for pidfile in $(find "$ROOT" -name loggbokd.spawned.pid 2>/dev/null || true); do
        kill "$(cat "$pidfile")" 2>/dev/null || true
    done
}
trap cleanup EXIT

step=0
capture() {  # capture NAME: the pane's text into OUT/NN-NAME.txt (sets $captured)
    step=$((step + 1))
    captured=$(printf '%s/%02d-%s.txt' "$OUT" "$step" "$1")
    tmux capture-pane -p -t "$SESSION" > "$captured"
}

gone() {  # gone NAME TEXT [SECONDS]: wait until TEXT is off the screen, then capture
    local name=$1 text=$2 seconds=${3:-20} waited=0
    while tmux capture-pane -p -t "$SESSION" | grep -qF -- "$text"; do
        sleep 0.2
        waited=$((waited + 1))
        if ((waited > seconds * 5)); then
            capture "$name-FAILED"
            echo "FAIL: '$text' still shown for $name; screen in $captured" >&2
            cat "$captured" >&2
            exit 1
        fi
    done
    capture "$name"
    echo "ok   $name: $captured"
}

shown() {  # shown TEXT SECONDS: is TEXT on screen within SECONDS (no failure)?
    local text=$1 seconds=$2 waited=0
    until tmux capture-pane -p -t "$SESSION" | grep -qF -- "$text"; do
        sleep 0.2
        waited=$((waited + 1))
        ((waited <= seconds * 5)) || return 1
    done
}

expect() {  # expect NAME TEXT [SECONDS]: wait for TEXT on screen, then capture it
    local name=$1 text=$2 seconds=${3:-20} waited=0
    until tmux capture-pane -p -t "$SESSION" | grep -qF -- "$text"; do
        sleep 0.2
        waited=$((waited + 1))
        if ((waited > seconds * 5)); then
            capture "$name-FAILED"
            echo "FAIL: '$text' not shown for $name; screen in $captured" >&2
            cat "$captured" >&2
            exit 1
        fi
    done
    sleep 0.3  # let the rest of the screen paint
    capture "$name"
    echo "ok   $name: $captured"
}

keys() { tmux send-keys -t "$SESSION" "$@"; sleep 0.3; }

tmux new-session -d -s "$SESSION" -x "$WIDTH" -y "$HEIGHT" \
    "$LOGGBOK demo; echo 'loggbok exited'; sleep 600"

expect contacts "contacts" 90
expect contacts-dated "2025-03-" 60  # last activity appears after the first sync, no r
keys Enter
expect timeline "entries shown"
keys Enter
expect message "Subject:"
keys h
expect headers "Message-ID:"
keys w
expect why "Evidence"
keys Escape Escape Escape
expect back-to-contacts "Filter"
keys u
expect unlogged "unlogged messages in"
keys w
expect why-unlogged "Not logged"
keys l
expect log-manually-picker "Log onto chosen"
keys Escape Escape
keys m
# Under load a key can land while a dialog is still closing: press it again once.
shown "aildir" 5 || keys m
expect mailboxes "aildir"  # the provider column at 160 wide, the Maildir path at 80
keys /
keys -l "Solvik"
keys Enter
expect search "hits for Solvik"
keys ,
expect settings "Logging mode"
keys C-p
# Under load the first ctrl+p can land before the screen has taken focus: ask again once.
shown "Search for commands" 5 || keys C-p
expect palette-open "Search for commands"
keys -l "mailbox"  # a search, so the palette must list matching commands (typed text differs)
expect palette "Add mailbox" 40
keys Escape
keys q
expect quit "loggbok exited"

# ---- first run: an empty install, through the checklist
tmux kill-session -t "$SESSION" 2>/dev/null || true
SESSION=$SESSION-first
export XDG_RUNTIME_DIR=$ROOT/run-first XDG_DATA_HOME=$ROOT/data-first
export XDG_CONFIG_HOME=$ROOT/config-first
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
for dir in "$ROOT/Mail" "$ROOT/Mail/.Sent"; do mkdir -p "$dir/cur" "$dir/new" "$dir/tmp"; done
printf 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna Berg\r\nEMAIL:anna@client.example\r\nEND:VCARD\r\n' \
    > "$ROOT/contacts.vcf"
tmux new-session -d -s "$SESSION" -x "$WIDTH" -y "$HEIGHT" \
    "$LOGGBOK; echo 'loggbok exited'; sleep 600"
expect first-run "Getting started" 90
expect first-run-empty "No contacts yet"
keys 1
expect first-run-import "Import contacts from"
keys -l "$ROOT/contacts.vcf"
keys Enter
expect first-run-contacts "1 contact"
keys 2
expect first-run-settings "BCC logging address"
keys -l "log@crm.example"
keys C-s
expect first-run-saved "Settings saved"
keys Escape  # leaves the field: c is a key again, not text
keys c
keys 3
expect first-run-own "Your own addresses"
keys -l "me@us.example"
keys C-s
keys Escape
keys c
keys 4
expect first-run-mailbox-form "Maildir (mbsync"  # the provider, focused (the title may scroll)
keys Tab  # provider (Maildir) -> address
keys -l "me@us.example"
keys Tab
keys -l "$ROOT/Mail"
keys Enter  # Enter in the last field tests and saves
expect first-run-mailbox "connected; syncing" 60
keys c
shown "Filter" 5 || keys c  # (see the note at m above)
expect first-run-back "Filter"
gone first-run-done "Getting started" 60
keys q
expect first-run-quit "loggbok exited"
echo "all flows shown; captures in $OUT"
