"""A generated frame's traced pixels (newly seen at its borders) are the model's, as on a traced
frame: run over a window per border around them, every other pixel keeping its bytes; the traced
frame after remembers them."""

import numpy as np
import torch

from backrooms.diffusion import node as diffusion_node
from backrooms.diffusion.uncovered import DENSITY, MARGIN, windows
from backrooms.graph.product import RGB, TRACED
from test_render_uncovered import TURN, _walk


def test_each_border_gets_one_window_around_its_pixels():
    h, w, multiple = 120, 160, 16
    traced = torch.zeros((h, w), dtype=torch.uint8)
    traced[10:110, 0:6] = 1  # a strip along the left border
    traced[0, 100:103] = 1  # three pixels at the top: too sparse for a window of their own
    traced[112:120, 40:120] = 1  # eight rows along the bottom
    found = {(a.top, a.bottom, a.left, a.right): a for a in windows(traced, multiple)}
    # the strips' bounding boxes, MARGIN more each way, rounded out to 16s inside the frame (all
    # 120 rows: the frame is not taller; the node pads what is not a multiple)
    assert sorted(found) == [(0, 120, 0, 48), (72, 120, 8, 152)], sorted(found)
    left, bottom = found[(0, 120, 0, 48)], found[(72, 120, 8, 152)]
    assert left.right >= 6 + MARGIN and bottom.left <= 40 - MARGIN and bottom.right >= 120 + MARGIN
    # each window writes its own border's pixels, all of them, and only those
    assert torch.equal(left.mask[0, 0].bool(), traced[left.rows, left.cols].bool() & (torch.arange(48) < 6))
    assert int(bottom.mask.sum()) == 8 * 80 and bool(bottom.mask[0, 0, -8:, 40 - 8 : 120 - 8].all())
    for a in found.values():
        assert a.mask.sum() >= DENSITY * a.mask.numel()
    assert windows(torch.zeros((h, w), dtype=torch.uint8), multiple) == []


def test_a_turns_newly_seen_strip_is_the_models_like_a_traced_frame(monkeypatch):
    """At a turn at ``generate`` 2 (defaults otherwise), the strip the render node traced on the
    generated frame is close to what the node makes of that frame when every frame is traced
    (``generate`` 1); left as traced (one sample, smoothed) it was twice as far, and read as a
    seam flickering at the frame's edge. Outside the strip not a byte changes."""
    frames = range(TURN - 5, TURN + 1)
    filled = _walk(frames)[TURN]
    traced_every_frame = _walk(frames, **{"diffusion.generate": 1})[TURN]
    fill = diffusion_node.DiffusionNode._fill_traced

    def fill_before(self, product, p):  # the strips of the frames before are filled as always
        if product.frame < TURN:
            fill(self, product, p)

    monkeypatch.setattr(diffusion_node.DiffusionNode, "_fill_traced", fill_before)
    as_traced = _walk(frames)[TURN]
    strip = filled[TRACED].astype(bool)
    assert strip.mean() > 0.05  # the turn brought a strip in (12 % of the frame when written)

    def away(a):
        reference = traced_every_frame[RGB][..., :3].astype(int)
        return np.abs(a[RGB][..., :3].astype(int) - reference)[strip].mean()

    assert away(filled) < 0.7 * away(as_traced), (away(filled), away(as_traced))  # 3.6 and 6.5 when written
    assert np.array_equal(filled[RGB][~strip], as_traced[RGB][~strip])


def test_the_traced_frame_after_remembers_the_strip(monkeypatch):
    """The traced frame after a generated one takes the pixels first seen on its strips from them
    (its chains look back to the key frame, which never saw them): nearer to what the node makes
    with every frame traced (2.6/255 there when written) than when it took them as newly seen (3.7)."""
    frames = range(TURN - 5, TURN + 2)
    seen = {}
    source = diffusion_node._Strip.source

    def recorded(self, motion, seen_by_key, margin):
        first = source(self, motion, seen_by_key, margin)
        if first is not None:
            where = torch.zeros_like(seen_by_key)
            where[..., first.rows, first.cols] = first.seen
            seen[self.frame + 1] = where[0, 0].bool().numpy()
        return first

    monkeypatch.setattr(diffusion_node._Strip, "source", recorded)
    remembered = _walk(frames)[TURN + 1]
    where = seen[TURN + 1]
    assert where.mean() > 0.03  # the strip of frame TURN, moved on by the turn (6.7 % when written)
    reference = _walk(frames, **{"diffusion.generate": 1})[TURN + 1][RGB][..., :3].astype(int)
    monkeypatch.setattr(diffusion_node._Strip, "source", lambda self, motion, key, margin: None)
    forgot = _walk(frames)[TURN + 1]

    def away(a):
        return np.abs(a[RGB][..., :3].astype(int) - reference)[where].mean()

    assert away(remembered) < 0.8 * away(forgot), (away(remembered), away(forgot))


def test_at_strength_0_the_strip_stays_as_traced(monkeypatch):
    """Strength 0 is the render, reconstructed: the model runs on no frame, nor on the strip."""
    frames = range(TURN - 3, TURN + 1)
    knobs = {"diffusion.strength": 0.0}
    kept = _walk(frames, **knobs)[TURN]
    monkeypatch.setattr(diffusion_node.DiffusionNode, "_fill_traced", lambda self, product, p: None)
    assert np.array_equal(kept[RGB], _walk(frames, **knobs)[TURN][RGB])
