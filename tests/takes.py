"""Reading a live take (JSON lines) in tests: what a running ``backrooms live`` recorded."""

import json
from pathlib import Path


def recorded(take: Path, key: str) -> list:
    """The values of ``key`` the live process applied to its frames, in order (from its take)."""
    found = []
    for line in take.read_text().splitlines():
        record = json.loads(line)
        if isinstance(record.get("set"), dict) and key in record["set"]:
            found.append(record["set"][key])
    return found
