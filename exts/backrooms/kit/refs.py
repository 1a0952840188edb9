"""Names the Kit adapter takes from packages written alongside it, resolved when first used. Kit-free.

Keeping them in one table makes the adapter's expectations of the rest of the package explicit
(docs/kit.md lists them) and lets the extension start even while one of them is still missing.
"""

from __future__ import annotations

import importlib
from typing import Any

from backrooms.errors import UserError

EXPECTED: dict[str, str] = {
    # Variant sets of every prototype, {set name: (option, ...)}.
    "variants": "backrooms.world.layout:VARIANTS",
    # Regex (Replicator path_pattern) matching the cell prims of an authored hallway stage.
    "cell_pattern": "backrooms.world.stage:CELL_PATTERN",
    # write_walk_stage(path, seed, start, frames, fps, params) -> camera prim path: the hallway
    # around a camera walk, with the walk as time-sampled camera animation (frame = time code).
    "write_walk_stage": "backrooms.world.stage:write_walk_stage",
}


def resolve(name: str) -> Any:
    """Import ``EXPECTED[name]``; a missing one is a one-line UserError naming what is missing."""
    target = EXPECTED[name]
    module_name, _, attr = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise UserError(f"the Kit extension needs {target} ({name}), which is not available: {exc}") from None
