"""Where the model runs on a generated frame: around the pixels the render node traced there.

On a frame ``diffusion.generate`` makes, the render node traces what the key frame never saw
(``render.uncovered``): strips along the borders the camera turns or bobs toward, a few pixels to
tens of pixels deep. Left as traced (one sample, smoothed) they were soft and seamed for one
frame in two at 12 Hz beside the reconstructed frame around them, which read as flicker at the
frame's edge on every pan. The node runs its model over them as on a traced frame, but only over
windows that hold them: each traced pixel belongs to the border nearest it, and each border's
pixels get one window, their bounding box widened by ``MARGIN`` pixels of context (the generated
frame itself, trusted as memory) and rounded out to the model's size multiple, where they fill at
least ``DENSITY`` of it. A window writes only its own border's pixels, so windows may overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

MARGIN = 32  # pixels of context around a border's traced pixels (16 left the seams 1 % less steady)
# a border's pixels sparser than this in their window keep the trace: isolated pixels, smoothed
# among their reprojected neighbours, show no seam, and a window costs the model its whole area
DENSITY = 1 / 16


@dataclass(frozen=True)
class Window:
    """Rows ``top:bottom`` and columns ``left:right`` of the frame; ``mask`` (1, 1, h, w): the
    traced pixels this window writes."""

    top: int
    bottom: int
    left: int
    right: int
    mask: torch.Tensor

    @property
    def rows(self) -> slice:
        return slice(self.top, self.bottom)

    @property
    def cols(self) -> slice:
        return slice(self.left, self.right)


def _span(first: int, end: int, size: int, multiple: int) -> tuple[int, int]:
    """[first, end) widened by ``MARGIN`` each way, then to a multiple of ``multiple`` (inside
    [0, size) where the frame is that large)."""
    lo, hi = max(first - MARGIN, 0), min(end + MARGIN, size)
    length = min(-(-(hi - lo) // multiple) * multiple, size)
    hi = min(lo + length, size)
    return hi - length, hi


def windows(traced: torch.Tensor, multiple: int) -> list[Window]:
    """The windows over the traced pixels of an (H, W) mask, one per frame border that has any."""
    h, w = traced.shape
    rows, cols = torch.nonzero(traced, as_tuple=True)
    if rows.numel() == 0:
        return []
    side = torch.stack((cols, w - 1 - cols, rows, h - 1 - rows)).argmin(dim=0)  # left, right, top, bottom
    out = []
    for s in range(4):
        mine = side == s
        if not bool(mine.any()):
            continue
        ys, xs = rows[mine], cols[mine]
        top, bottom = _span(int(ys.min()), int(ys.max()) + 1, h, multiple)
        left, right = _span(int(xs.min()), int(xs.max()) + 1, w, multiple)
        if ys.numel() < DENSITY * (bottom - top) * (right - left):
            continue
        mask = torch.zeros((1, 1, bottom - top, right - left), device=traced.device)
        mask[0, 0, ys - top, xs - left] = 1.0
        out.append(Window(top, bottom, left, right, mask))
    return out
