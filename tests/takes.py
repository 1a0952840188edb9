"""Reading a live take (JSON lines) in tests: what a running ``backrooms live`` recorded."""

import json
from pathlib import Path


def recorded(take: Path, key: str) -> list:
    """The values of ``key`` the live process applied to its frames, in order (from its take).

    The process may be writing a line while this reads: only lines that have their newline count
    (a read beside a write may see the first part of one; CI once read ``{"frame":68,"set":{"decay.``).
    """
    found = []
    for line in take.read_text().split("\n")[:-1]:  # the part after the last newline is unfinished
        record = json.loads(line)
        if isinstance(record.get("set"), dict) and key in record["set"]:
            found.append(record["set"][key])
    return found
