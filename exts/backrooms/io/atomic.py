"""Write files so that a reader never sees half of one: temporary name, then rename.

A write that finds no room raises ``NoRoom`` naming the file it was for; the file under that name
(an earlier frame, the shipped weights) is left as it was.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from backrooms.errors import NO_ROOM, NoRoom


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``final``; it replaces ``final`` only if the block succeeds."""
    final = Path(final)
    tmp = final.with_name(f".{final.stem}.tmp{os.getpid()}{final.suffix}")
    try:
        yield tmp
        os.replace(tmp, final)
    except OSError as exc:
        if exc.errno in NO_ROOM:
            raise NoRoom.of(final, exc) from None
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
