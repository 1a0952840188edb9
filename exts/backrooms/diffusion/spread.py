"""Frame generation's catch-up, spread over two frames instead of popping on the traced one.

With ``diffusion.generate`` k > 1 the frames between traced ones reproject the last traced output;
the next traced frame then showed in one step everything the model changed since (its detail, the
memory's easing toward the new render), so the output pulsed at fps / k: on the card's walk at the
defaults the change into a traced frame was 2.7x the change into a generated one (warping error
5.1e-5 against 1.9e-5). A traced frame now shows that change halfway: its output is eased
``SHARE`` of the way toward the generated frame before it, moved along the motion vectors where that
frame saw the surface, re-lit from its light to the output's and kept within the output's own 3x3
range (as the memory is clamped to the render: a panel that goes off on this frame stays off); the
rest arrives on the next frame, which reprojects the traced output itself (the generator keeps that,
not this). One kernel over the 8-bit frames; the light is each frame's luminance averaged over
``LIGHT_CELL`` pixel cells and a 3x3 of them (the memory's own light is a 13x13 box).
"""

from __future__ import annotations

import warp as wp

from backrooms.camcorder.optics import sample
from backrooms.diffusion.lighting import CLAMP_MARGIN, EPS
from backrooms.graph.product import DISOCCLUSION, MOTION_VECTORS, RGB, RenderProduct

wp.set_module_options({"enable_backward": False})

SHARE = 0.5  # of the way back to the frame before: the change splits evenly between the two frames
LIGHT_CELL = 4  # pixels per side averaged into one cell of the light map


@wp.func
def rgb_at(image: wp.array3d(dtype=wp.uint8), y: int, x: int) -> wp.vec3:
    """Pixel (y, x) of a uint8 image, in [0, 255]."""
    return wp.vec3(float(image[y, x, 0]), float(image[y, x, 1]), float(image[y, x, 2]))


@wp.func
def bilinear_rgb(image: wp.array3d(dtype=wp.uint8), x: float, y: float) -> wp.vec3:
    """A uint8 image at image point (x, y), bilinear, edges held; in [0, 255]."""
    fx = wp.clamp(x - 0.5, 0.0, float(image.shape[1] - 1))
    fy = wp.clamp(y - 0.5, 0.0, float(image.shape[0] - 1))
    x0, y0 = int(fx), int(fy)
    x1, y1 = wp.min(x0 + 1, image.shape[1] - 1), wp.min(y0 + 1, image.shape[0] - 1)
    tx, ty = fx - float(x0), fy - float(y0)
    top = wp.lerp(rgb_at(image, y0, x0), rgb_at(image, y0, x1), tx)
    return wp.lerp(top, wp.lerp(rgb_at(image, y1, x0), rgb_at(image, y1, x1), tx), ty)


@wp.kernel
def ease_back(
    shown: wp.array3d(dtype=wp.uint8),
    before: wp.array3d(dtype=wp.uint8),
    motion: wp.array3d(dtype=wp.float32),
    disocclusion: wp.array2d(dtype=wp.uint8),
    light_now: wp.array2d(dtype=wp.float32),
    light_before: wp.array2d(dtype=wp.float32),
    share: float,
    eased: wp.array3d(dtype=wp.uint8),
):
    """Pixel (y, x) of ``shown`` eased ``share`` of the way toward ``before`` at the place the
    motion vectors say it was, re-lit and clamped (see the module); kept where it was not seen."""
    y, x = wp.tid()
    h, w = shown.shape[0], shown.shape[1]
    now = rgb_at(shown, y, x)
    value = now
    sx = float(x) + 0.5 - motion[y, x, 0]
    sy = float(y) + 0.5 - motion[y, x, 1]
    if sx >= 0.0 and sy >= 0.0 and sx <= float(w) and sy <= float(h) and disocclusion[y, x] == wp.uint8(0):
        up = rgb_at(shown, wp.max(y - 1, 0), x)
        down = rgb_at(shown, wp.min(y + 1, h - 1), x)
        left = rgb_at(shown, y, wp.max(x - 1, 0))
        right = rgb_at(shown, y, wp.min(x + 1, w - 1))
        low = wp.min(wp.min(wp.min(now, up), wp.min(down, left)), right)
        high = wp.max(wp.max(wp.max(now, up), wp.max(down, left)), right)
        cell = float(LIGHT_CELL)  # the light maps' cell centres at (i + 0.5) * LIGHT_CELL
        lit = sample(light_now, (float(x) + 0.5) / cell - 0.5, (float(y) + 0.5) / cell - 0.5)
        gain = (lit + EPS) / (sample(light_before, sx / cell - 0.5, sy / cell - 0.5) + EPS)
        eps = wp.vec3(EPS * 255.0)
        margin = wp.vec3(CLAMP_MARGIN * 255.0)
        then = wp.cw_mul(bilinear_rgb(before, sx, sy) + eps, wp.vec3(gain)) - eps
        then = wp.max(wp.min(then, high + margin), low - margin)
        value = now + share * (then - now)
    for c in range(3):
        eased[y, x, c] = wp.uint8(wp.clamp(wp.round(value[c]), 0.0, 255.0))
    eased[y, x, 3] = shown[y, x, 3]


@wp.kernel
def cell_luminance(rgb: wp.array3d(dtype=wp.uint8), cells: wp.array2d(dtype=wp.float32)):
    """Mean luminance in [0, 1] of cell (i, j): ``LIGHT_CELL`` pixels square, what of it is inside."""
    i, j = wp.tid()
    y1 = wp.min((i + 1) * LIGHT_CELL, rgb.shape[0])
    x1 = wp.min((j + 1) * LIGHT_CELL, rgb.shape[1])
    total = wp.float32(0.0)
    for y in range(i * LIGHT_CELL, y1):
        for x in range(j * LIGHT_CELL, x1):
            total += float(rgb[y, x, 0]) + float(rgb[y, x, 1]) + float(rgb[y, x, 2])
    cells[i, j] = total / (765.0 * float((y1 - i * LIGHT_CELL) * (x1 - j * LIGHT_CELL)))


@wp.kernel
def cell_box(cells: wp.array2d(dtype=wp.float32), light: wp.array2d(dtype=wp.float32)):
    """Cell (i, j)'s mean over the 3x3 cells around it that are inside the map."""
    i, j = wp.tid()
    total = wp.float32(0.0)
    count = wp.float32(0.0)
    for y in range(wp.max(i - 1, 0), wp.min(i + 2, cells.shape[0])):
        for x in range(wp.max(j - 1, 0), wp.min(j + 2, cells.shape[1])):
            total += cells[y, x]
            count += 1.0
    light[i, j] = total / count


class CatchUp:
    """Holds the last generated frame (its RGB and light) and eases the traced frame after it."""

    def __init__(self, width: int, height: int, device: str) -> None:
        self.device = device
        cells = (-(-height // LIGHT_CELL), -(-width // LIGHT_CELL))
        self._before = wp.empty((height, width, 4), dtype=wp.uint8, device=device)
        self._eased = wp.empty((height, width, 4), dtype=wp.uint8, device=device)
        self._cells = wp.empty(cells, dtype=wp.float32, device=device)
        self._light_before = wp.empty(cells, dtype=wp.float32, device=device)
        self._light_now = wp.empty(cells, dtype=wp.float32, device=device)
        self.frame: int | None = None  # the frame held, None when none is

    def hold(self, product: RenderProduct) -> None:
        """Keep a generated frame's output for the traced frame after it."""
        wp.copy(self._before, product[RGB])
        self.frame = product.frame

    def forget(self) -> None:
        self.frame = None

    def ease(self, product: RenderProduct) -> None:
        """Ease the traced frame's output (in ``product``'s RGB, in place) toward the frame held."""
        rgb = product[RGB]
        self._light(self._before, self._light_before)
        self._light(rgb, self._light_now)
        inputs = [rgb, self._before, product[MOTION_VECTORS], product[DISOCCLUSION]]
        inputs += [self._light_now, self._light_before, SHARE]
        wp.launch(ease_back, rgb.shape[:2], inputs, [self._eased], device=self.device)
        wp.copy(rgb, self._eased)

    def _light(self, rgb: wp.array, light: wp.array) -> None:
        """``rgb``'s light: its mean luminance over cells of ``LIGHT_CELL`` pixels, then 3x3 cells."""
        wp.launch(cell_luminance, self._cells.shape, [rgb], [self._cells], device=self.device)
        wp.launch(cell_box, light.shape, [self._cells], [light], device=self.device)
