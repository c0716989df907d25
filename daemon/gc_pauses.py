"""Short pauses of the cyclic garbage collector while the daemon serves.

A full (generation 2) collection walks every container object the process
holds. After start-up that is ~110,000 objects (modules, classes, functions, the
method registry, the store's query objects), none of which ever becomes
garbage; reads allocate fast enough that a full collection ran every 3-4 s
under load and held the event loop (and every reader) for 45-150 ms on a busy
machine: the p99 outliers of a 1-2 ms timeline page. `settle_after_start`
collects once, then moves what is left into the permanent generation
(`gc.freeze`), which collections never walk again: a full collection then walks
only what was allocated since. Frozen objects are still freed when their last
reference goes (reference counting is untouched); only a reference cycle among
them would stay, and start-up leaves none worth the walk.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def settle_after_start() -> int:
    """Collect, then freeze what survived start-up; returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("garbage collector: %d start-up objects frozen (never walked again)", frozen)
    return frozen
