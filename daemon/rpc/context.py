"""What every handler gets: the store, the sync service and the daemon's identity."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from loggbok.daemon.config.service import ConfigService
from loggbok.daemon.secrets import SecretStore
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.service import SyncService
from loggbok.daemon.sync.sign_ins import SignIns


@dataclass
class Context:
    store: Store
    sync: SyncService
    secrets: SecretStore
    data_dir: Path
    capabilities: list[str] = field(default_factory=list)
    viewer: int = 1
    sign_ins: SignIns | None = None
    """Sign-ins under way (`mailboxes.sign_in`); None where sign-in is not offered."""
    config: ConfigService | None = None
