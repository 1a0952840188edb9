"""A user's USD file: USD's own reason in one line, and none of USD's diagnostics printed around it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_usd() -> Iterator[list[str]]:
    """Collect USD's warnings and status lines (which USD prints to stderr) into the yielded list."""
    from pxr import UsdUtils

    delegate = UsdUtils.CoalescingDiagnosticDelegate()
    notes: list[str] = []
    try:
        yield notes
    finally:
        notes.extend(d.commentary for d in delegate.TakeUncoalescedDiagnostics())
        del delegate


def usd_reason(exc: BaseException) -> str:
    """The first reason a pxr ``Tf.ErrorException`` carries (its ``str()`` is often empty)."""
    reasons = [getattr(arg, "commentary", None) or str(arg) for arg in exc.args]
    reasons = [r.strip() for r in reasons if r and r.strip()] or [exc.__class__.__name__]
    return reasons[0].splitlines()[0][:200]
