"""What every handler gets: the store, the sync service and the daemon's identity."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from loggbok.daemon.secrets import SecretStore
from loggbok.daemon.store.store import Store
from loggbok.daemon.sync.service import SyncService


@dataclass
class Context:
    store: Store
    sync: SyncService
    secrets: SecretStore
    data_dir: Path
    capabilities: list[str] = field(default_factory=list)
    viewer: int = 1
