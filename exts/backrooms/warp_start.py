"""Warp started without its CPU-only machines' line: a render on a machine without an NVIDIA driver
is the normal case here, not a warning (``--device cuda`` there is refused in our own words)."""

from __future__ import annotations

import os
import sys
import tempfile

# printed by Warp's native library on every start without libcuda, straight to the process's stderr
NO_DRIVER = "Warp CUDA warning: Could not find or load the NVIDIA CUDA driver."


def hush_warp() -> None:
    """No banner or module-load lines around a progress bar: for the processes this package starts
    (the command, its render workers), not for a host such as Kit that shares Warp with others."""
    import warp as wp

    wp.config.log_level = wp.LOG_WARNING


_started = False  # in this process: later calls touch no file descriptor


def start_warp() -> None:
    """``wp.init()``, with whatever Warp's native side prints on the way passed on but ``NO_DRIVER``."""
    global _started
    if _started:
        return
    import warp as wp

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            wp.init()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            said = caught.read().decode("utf-8", "replace").splitlines(keepends=True)
    sys.stderr.write("".join(line for line in said if not line.startswith(NO_DRIVER)))
    sys.stderr.flush()
    _started = True
