"""File work on a thread of its own, so encoding or decoding a frame (zlib releases the GIL)
overlaps the next frame's work instead of adding to it."""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class BackgroundWrites:
    """Writes run one at a time in the order given, at most ``depth`` waiting (a bounded queue: a
    slow disk holds the renderer back instead of filling memory with frames).

    A failed write is raised by the next ``submit`` or by ``close``, and the writes queued after it
    are dropped (not run), so nothing after a failure is recorded as done. ``close`` (or leaving the
    ``with`` block, even on an error) waits for every write still queued.
    """

    def __init__(self, depth: int = 4) -> None:
        self.depth = depth
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="writes")
        self._queued: deque[Future] = deque()
        self._failed = False

    def submit(self, write: Callable[..., Any], *args: Any) -> None:
        """Queue ``write(*args)``; the arguments must not change before it runs (pass copies)."""
        while self._queued and (len(self._queued) >= self.depth or self._queued[0].done()):
            self._queued.popleft().result()  # a failure surfaces here, on the caller's thread
        self._queued.append(self._pool.submit(self._run, write, args))

    def close(self) -> None:
        """Wait for every queued write; raise the first failure."""
        try:
            while self._queued:
                self._queued.popleft().result()
        finally:  # after a failure the rest are dropped (``_run``): wait for them to say so
            for job in self._queued:
                job.exception()
            self._queued.clear()
            self._pool.shutdown()

    def __enter__(self) -> BackgroundWrites:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: Any) -> None:
        if kind is None:
            self.close()
            return
        with contextlib.suppress(Exception):  # the error being raised wins; queued writes still finish
            self.close()

    def _run(self, write: Callable[..., Any], args: tuple) -> None:
        if self._failed:
            raise RuntimeError("an earlier write failed")
        try:
            write(*args)
        except BaseException:
            self._failed = True
            raise


def prefetched(items: Iterable[T], depth: int = 4) -> Iterator[T]:
    """``items`` in order, each made on a thread of its own up to ``depth`` ahead of the caller (a
    frame decoded while the one before it is encoded); an error making one is raised in its turn."""
    source, end = iter(items), object()
    with ThreadPoolExecutor(1, thread_name_prefix="prefetch") as pool:
        ahead = deque(pool.submit(next, source, end) for _ in range(depth))
        while (item := ahead.popleft().result()) is not end:
            ahead.append(pool.submit(next, source, end))
            yield item
