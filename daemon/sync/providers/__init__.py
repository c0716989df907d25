"""Mail providers, each a package plugged into one registry (`registry.py`).

A provider brings, behind the `Provider` contract in `base.py`:

- its params variant in `protocol/types.py` (the `provider` tag of
  `mailboxes.add` / `mailboxes.test`), which it turns into the config it stores
  (`config_of`) and back into what `mailboxes.list` shows (`describe`);
- its backend (the `sync/backend.py` contract), opened from a mailbox row and
  its secret (`open`);
- its probe (`probe`): what `mailboxes.test` checks before anything is saved;
- its capabilities (push, conversation keys, sign-in) for clients to show.

Nothing outside a provider's package switches on a provider's name: the sync
service, the RPC handlers and the TUI's mailbox form all ask the registry.
"""
