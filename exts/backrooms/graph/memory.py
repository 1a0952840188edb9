"""How much memory a frame size needs on the CPU, so a size that cannot fit is refused before it starts.

Measured with ``/usr/bin/time -v backrooms render --frames 12`` on the default chain (render ->
diffusion -> camcorder -> decay -> audio, CPU), which streams its frames (``Executor.stream``: one
buffer set per frame in flight, seven): 706 MB peak at 320x240, 1069 MB at 640x480, i.e. about
590 MB for the libraries and 1580 bytes a pixel (AOVs, the diffusion tensors, the camcorder and
decay planes, the threads' allocations); before streaming (two buffer sets) 662 and 884 MB, 960
bytes a pixel. With a margin: 1800.
"""

from __future__ import annotations

import os

from backrooms.errors import UserError

BASE_BYTES = 600 * 2**20
BYTES_PER_PIXEL = 1800


def needed_bytes(width: int, height: int) -> int:
    return BASE_BYTES + BYTES_PER_PIXEL * width * height


def machine_bytes() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(width: int, height: int, device: str) -> None:
    """Refuse a CPU render whose estimated peak memory is more than the machine has."""
    have = machine_bytes()
    if not device.startswith("cpu") or have is None:
        return
    need = needed_bytes(width, height)
    if need > have:
        raise UserError(
            f"--size {width}x{height}: needs about {need / 2**30:.0f} GiB of memory on the CPU "
            f"({BYTES_PER_PIXEL} bytes a pixel), more than this machine's {have / 2**30:.0f} GiB"
        )
