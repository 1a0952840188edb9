"""One progress bar over every shard, fed by the part logs, so it works the same for every engine.

While shards seek (a render from ``--start``, a shard after the first, a resumed one), no frame is
logged for seconds: the bar then says how far their replay has come.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from backrooms.io.manifest import PARTS, replay_progress

POLL_SECONDS = 0.25


class PartCounter:
    """Counts the lines appended to one job's part logs, reading each byte once."""

    def __init__(self, out: Path, key: str) -> None:
        self.folder = Path(out) / PARTS
        self.key = key
        self._seen: dict[Path, tuple[int, int]] = {}

    def count(self) -> int:
        for path in self.folder.glob(f"{self.key}*.jsonl"):
            offset, lines = self._seen.get(path, (0, 0))
            try:
                with path.open("rb") as f:
                    f.seek(offset)
                    new = f.read()
            except FileNotFoundError:
                continue
            self._seen[path] = (offset + len(new), lines + new.count(b"\n"))
        return sum(lines for _, lines in self._seen.values())


@contextlib.contextmanager
def shard_progress(out: Path, key: str, total: int, done: int, enabled: bool = True) -> Iterator[None]:
    """Show ``done + frames logged by shards`` of ``total`` while the block runs."""
    bar = tqdm(total=total, initial=done, unit="frame", disable=not enabled)
    counter = PartCounter(out, key)
    stop = threading.Event()

    def refresh() -> None:
        replayed, replaying = replay_progress(out, key)
        bar.set_description_str(f"catching up {replayed}/{replaying}" if replaying else "", refresh=False)
        arrived = min(total, done + counter.count()) - bar.n
        if arrived:
            bar.update(arrived)  # shows them
            return
        # the rate (and so the time left) counts frames as they arrive, not the wait before the
        # first (the start-up and a seek's replay)
        bar.last_print_t = time.time()
        bar.refresh()

    def poll() -> None:
        while not stop.wait(POLL_SECONDS):
            refresh()

    thread = threading.Thread(target=poll, name="shard-progress", daemon=True)
    if enabled:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        if enabled:
            thread.join()
            refresh()
        bar.close()
