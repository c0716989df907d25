"""What a fresh Python interpreter has imported after running some code: the layer
and import-cost tests read `sys.modules` where nothing of the test run is loaded."""

from __future__ import annotations

import subprocess
import sys

_PRINT_MODULES = "\nimport sys\nprint(','.join(sorted(sys.modules)))\n"


def modules_after(code: str) -> set[str]:
    """The names in `sys.modules` once `code` has run in a new interpreter (from `/`)."""
    out = subprocess.run(
        [sys.executable, "-c", code + _PRINT_MODULES],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    ).stdout
    return set(out.strip().split(","))
