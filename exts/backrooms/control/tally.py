"""Counts controller errors by kind and logs each kind once, so a flood of bad packets costs no log spam."""

from __future__ import annotations

import logging
import threading
from collections import Counter

LOG = logging.getLogger("backrooms.control")


class Tally:
    """Thread-safe error counter; the first error of each kind is logged with its detail."""

    def __init__(self, logger: logging.Logger = LOG) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._log = logger

    def add(self, kind: str, detail: str = "") -> None:
        with self._lock:
            self._counts[kind] += 1
            first = self._counts[kind] == 1
        if first:
            self._log.warning(
                "control: %s%s (further %s errors are counted, not logged)",
                kind,
                f": {detail}" if detail else "",
                kind,
            )

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def summary(self) -> str:
        counts = self.counts()
        return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
