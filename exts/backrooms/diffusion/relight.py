"""A generated frame takes its own frame's light: the key frame's output, reprojected, is re-lit by
how much the panels around each surface changed since the key frame (hum, flicker, blackouts).

The render node hands over every panel's gain on every frame, generated or not (``meta["lights"]``),
so the change is known exactly; what is not known without tracing is the shadowing, which a ratio
mostly cancels. Each surface point's light is the renderer's unshadowed sum (direct irradiance from
the panels within ``reach``, plus ``ambient`` times their bounce, ``render.lighting``), taken now
and at the key frame on a grid of every ``STEP``-th pixel (the light varies slowly; 2000 panels
are loaded, so panels are binned on the floor plan in cells ``reach`` wide and each point visits
the nine cells around it). The ratio applies to linear light: a pixel's value is undone through
the renderer's tone curve (sRGB, then the filmic fit), scaled, and tone mapped again (by tables); a
pixel whose light did not change keeps its bytes. The haze is not scaled with the surface: the
renderer blends each surface toward the glow of the panels around the camera by its distance, so
that part takes the new glow (a wall whose panels all went out keeps the haze's dim yellow, as the
render shows it, instead of turning black). A surface lit by no panel at the key frame and by some
now cannot be lit from its black (its albedo is not known): it takes the largest ratio,
``MAX_RATIO``, so it brightens toward the render, evenly, until the next traced frame.

A panel's own pixels (its instance id is its light's key) follow its gain, and not in linear
light: a panel emits far past the tone curve's shoulder (a healthy one about 30x what maps to
white), so its pixels barely move until it nearly goes out, while the output's panel pixels are
softer than the render's (reconstructed, denoised) and undoing the curve from them would take a
dip for a blackout. They scale in display value by how the renderer's curve shows the panel's
radiance at the two frames: its emission at its gain (``meta["shading"]``: ``panel_emission``
times ``exposure``) plus the light it reflects, as the renderer shades it (the panel's albedo,
``panel_albedo``, in the tubes' tint, times ``ambient`` times the bounce of the panels around it and
its own; a panel on the ceiling gets no direct light from the others), seen through the haze
(``haze``: the renderer's blend, by distance, toward the glow of the panels around the camera). So
a panel that goes out dims to the grey the render shows, not to black, and one dark at the key
frame lights up from that grey. ``change_at`` gives that factor negated.

``render.exposure``, ``render.ambient``, ``render.haze`` and ``render.light_radius`` automated live
change the light too: each enters as it was at each frame (an exposure scales every surface, its
haze and its panels; a denser haze hides more of a surface behind more glow; a shorter reach drops
the farther panels from each sum), so a generated frame and a traced frame's history take the
frame's own. Before, a generated frame kept its key frame's: an exposure wobble of
+-0.5 EV at the defaults reached the output at half its size (frame means' changes regressed on
the render's, slope 0.52).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import warp as wp

from backrooms.camcorder.optics import sample
from backrooms.camcorder.tone import aces_inverse, srgb_decoded
from backrooms.diffusion.pixels import FAR, pixel_point
from backrooms.graph.product import DEPTH, INSTANCE_ID, NORMALS, RenderProduct
from backrooms.launch import Bands
from backrooms.render.camera import CameraData
from backrooms.render.kernels import HAZE_COLOR, HAZE_GLOW, filmic, srgb_encoded
from backrooms.render.lighting import LIGHT_TINT, bounce_from, panel_irradiance

wp.set_module_options({"enable_backward": False})

STEP = 8  # the light's grid: every 8th pixel each way
MAX_RATIO = wp.constant(8.0)  # a surface lit almost only by panels that were off cannot jump further


@wp.struct
class Panels:
    """The loaded panels, binned on the floor plan (X, Z) in square cells ``cell`` metres wide."""

    position: wp.array(dtype=wp.vec3)
    half: wp.array(dtype=wp.vec2)
    now: wp.array(dtype=wp.float32)  # each panel's gain this frame
    key: wp.array(dtype=wp.float32)  # ... and at the key frame
    lit_now: wp.array(dtype=wp.float32)  # the light each panel reflects this frame, exposed
    lit_key: wp.array(dtype=wp.float32)  # ... and at the key frame
    first: wp.array(dtype=wp.int32)  # panel i's neighbours within ``cell``: neighbour[first[i]:first[i + 1]]
    neighbour: wp.array(dtype=wp.int32)
    shape: wp.array(dtype=wp.float32)  # ... the bounce of each at i per unit of gain
    gap: wp.array(dtype=wp.float32)  # ... and its distance from i (``panel_gap``)
    start: wp.array(dtype=wp.int32)  # cell c holds items[start[c]:start[c + 1]]
    items: wp.array(dtype=wp.int32)
    slot_key: wp.array(dtype=wp.uint32)  # the panels' keys hashed into slots (``key_slots``) ...
    slot_panel: wp.array(dtype=wp.int32)  # ... and the panel in each slot (-1: empty)
    slot_shift: int  # a key's first slot: its Fibonacci hash's top bits (32 - this many shifted out)
    origin: wp.vec2
    cell: float
    cols: int
    rows: int
    # each (this frame's, the key frame's): the knobs may be automated between the two
    reach: wp.vec2  # ``render.light_radius``: no wider than ``cell``
    ambient: wp.vec2  # ``render.ambient``
    exposure: float  # this frame's exposure scale over the key frame's (``render.exposure``)
    emission: wp.vec2  # a panel's emitted radiance per unit of gain, exposed
    reflect: wp.vec2  # the share of the panels' bounce a panel's surface shows, exposed
    haze: wp.vec2  # the haze's density (``render.haze``)
    haze_glow: wp.vec2  # the haze's glow per unit of the panels' bounce at the camera, exposed, uncoloured
    glow: wp.array(dtype=wp.float32)  # the haze's glow this frame and at the key frame (times HAZE_COLOR)


@wp.func
def panel_gap(panels: Panels, p: wp.vec3, i: int) -> float:
    """Distance from ``p`` to panel ``i``'s rectangle."""
    half = panels.half[i]
    gap = wp.max(wp.abs(p - panels.position[i]) - wp.vec3(half[0], 0.0, half[1]), wp.vec3(0.0))
    return wp.length(gap)


HASH = 2654435761  # 2^32 / the golden ratio: consecutive keys land far apart
# the same as a Warp constant: written into a kernel as a literal the compiler took it for an int32
# first and warned of the overflow on every build
HASH_U32 = wp.constant(wp.uint32(HASH))


def key_slots(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(slot keys, slot panels, shift): an open-addressing table at least twice as large as there
    are panels, so every search meets an empty slot; a key's search starts at its hash's top bits
    and steps on by one. Every pixel looks its instance up (is it a panel?): a binary search of the
    2000 keys cost 0.7 ms a frame at 320x240, most probes here are one.

    Filled without a loop in Python (that took 0.8-1.4 ms for 2000 panels, every frame a light rate
    glides; now 0.1): the keys in the order of their first slot each take the next free one, so a
    key's search runs through occupied slots to it, which is all a search needs; the few that run
    past the table's end go on from slot 0, one by one."""
    bits = max(1, int(2 * len(keys) - 1).bit_length())
    size = 1 << bits
    slot_key = np.zeros(size, np.uint32)
    slot_panel = np.full(size, -1, np.int32)
    # each key once, with its first panel (a key two panels share keeps the first)
    distinct, panel = np.unique(np.asarray(keys, np.uint32), return_index=True)
    home = ((distinct.astype(np.uint64) * HASH) & 0xFFFFFFFF) >> np.uint64(32 - bits)
    order = np.argsort(home, kind="stable")
    rank = np.arange(len(order))
    slot = np.maximum.accumulate(home[order].astype(np.int64) - rank) + rank if len(order) else rank
    inside = slot < size
    slot_key[slot[inside]] = distinct[order[inside]]
    slot_panel[slot[inside]] = panel[order[inside]]
    at = 0
    for i in order[~inside].tolist():  # past the end: the first free slots from the start
        while slot_panel[at] >= 0:
            at += 1
        slot_key[at], slot_panel[at] = distinct[i], panel[i]
    return slot_key, slot_panel, 32 - bits


@wp.func
def panel_of(panels: Panels, key: wp.uint32) -> int:
    """The panel whose key is ``key`` (an instance id), or -1 (see ``key_slots``)."""
    mask = panels.slot_panel.shape[0] - 1
    at = int((key * HASH_U32) >> wp.uint32(panels.slot_shift))
    while panels.slot_panel[at] >= 0:
        if panels.slot_key[at] == key:
            return panels.slot_panel[at]
        at = (at + 1) & mask
    return -1


@wp.func
def shown(x: float) -> float:
    """Radiance as the renderer's tone curve shows it (the filmic fit, then sRGB), in [0, 1]."""
    y = filmic(x)
    return wp.where(y <= 0.0031308, 12.92 * y, 1.055 * wp.pow(y, 1.0 / 2.4) - 0.055)


@wp.func
def panel_change(panels: Panels, i: int, distance: float) -> float:
    """Panel ``i``'s own pixels ``distance`` away: the factor on their display value, negated (1 if
    they showed black)."""
    haze_now = 1.0 - wp.exp(-panels.haze[0] * distance)
    haze_key = 1.0 - wp.exp(-panels.haze[1] * distance)
    grey = (HAZE_COLOR[0] + HAZE_COLOR[1] + HAZE_COLOR[2]) / 3.0
    before = panels.emission[1] * panels.key[i] + panels.lit_key[i]
    now = panels.emission[0] * panels.now[i] + panels.lit_now[i]
    before = shown(wp.lerp(before, grey * panels.glow[1], haze_key))
    now = shown(wp.lerp(now, grey * panels.glow[0], haze_now))
    return wp.where(before > 0.0, -now / before, 1.0)


@wp.func
def around(panels: Panels, p: wp.vec3, n: int) -> wp.vec2i:
    """The items of the ``n``-th (0..8, row by row) cell of the 3x3 block of cells around ``p`` on
    the floor plan (an empty range off the plan): every panel within ``cell`` of ``p`` is in one."""
    u = int(wp.floor((p[0] - panels.origin[0]) / panels.cell)) + n % 3 - 1
    v = int(wp.floor((p[2] - panels.origin[1]) / panels.cell)) + n // 3 - 1
    if u < 0 or v < 0 or u >= panels.cols or v >= panels.rows:
        return wp.vec2i(0, 0)
    return wp.vec2i(panels.start[v * panels.cols + u], panels.start[v * panels.cols + u + 1])


@wp.func
def bounce_at(panels: Panels, p: wp.vec3) -> wp.vec2:
    """The bounce of every panel within reach of ``p`` (``render.lighting.bounce_from``), at this
    frame's gains and reach and the key frame's."""
    total = wp.vec2(0.0)
    for cell in range(9):
        items = around(panels, p, cell)
        for k in range(items[0], items[1]):
            j = panels.items[k]
            gap = panel_gap(panels, p, j)
            if gap <= panels.cell:
                half = panels.half[j]
                shape = bounce_from(1.0, 4.0 * half[0] * half[1], panels.position[j] - p)
                now = wp.where(gap <= panels.reach[0], panels.now[j], 0.0)
                key = wp.where(gap <= panels.reach[1], panels.key[j], 0.0)
                total += wp.vec2(now, key) * shape
    return total


@wp.kernel
def list_neighbours(panels: Panels, fill: bool, count: wp.array(dtype=wp.int32)):
    """Panel i's neighbours within ``cell`` (itself included), the bounce of each at its centre per
    unit of gain and its distance: counted (``fill`` False), then written from ``panels.first[i]``."""
    i = wp.tid()
    p = panels.position[i]
    n = int(0)  # noqa: UP018, RUF046 (a Warp variable the loop may change, not a constant)
    for cell in range(9):
        items = around(panels, p, cell)
        for k in range(items[0], items[1]):
            j = panels.items[k]
            gap = panel_gap(panels, p, j)
            if gap <= panels.cell:
                if fill:
                    half = panels.half[j]
                    panels.neighbour[panels.first[i] + n] = j
                    panels.gap[panels.first[i] + n] = gap
                    panels.shape[panels.first[i] + n] = bounce_from(
                        1.0, 4.0 * half[0] * half[1], panels.position[j] - p
                    )
                n += 1
    count[i] = n


@wp.kernel
def panel_light(panels: Panels, eye: wp.vec3):
    """Each panel's reflected light now and at the key frame (the renderer's ambient term at its
    centre: its own bounce and its neighbours'; a panel on the ceiling gets no direct light from the
    others), and, in the last thread, the haze's glow around the camera (the renderer's
    ``haze_light``)."""
    i = wp.tid()
    if i == panels.now.shape[0]:
        panels.glow[0] = 0.0
        panels.glow[1] = 0.0
        if panels.haze[0] > 0.0 or panels.haze[1] > 0.0:
            glow = wp.cw_mul(bounce_at(panels, eye), panels.haze_glow)
            panels.glow[0] = glow[0]
            panels.glow[1] = glow[1]
        return
    now = wp.float32(0.0)
    before = wp.float32(0.0)
    for k in range(panels.first[i], panels.first[i + 1]):
        j = panels.neighbour[k]
        if panels.gap[k] <= panels.reach[0]:
            now += panels.now[j] * panels.shape[k]
        if panels.gap[k] <= panels.reach[1]:
            before += panels.key[j] * panels.shape[k]
    panels.lit_now[i] = panels.reflect[0] * now
    panels.lit_key[i] = panels.reflect[1] * before


@wp.kernel
def light_ratio(
    cam: CameraData,
    depth: wp.array2d(dtype=wp.float32),
    normals: wp.array3d(dtype=wp.float32),
    panels: Panels,
    ratio: wp.array2d(dtype=wp.float32),
):
    """On the grid: this frame's light over the key frame's, exposed (a change of exposure scales
    every surface, lit or not)."""
    i, j = wp.tid()
    y = wp.min(i * STEP, depth.shape[0] - 1)
    x = wp.min(j * STEP, depth.shape[1] - 1)
    ratio[i, j] = panels.exposure
    if not (depth[y, x] < FAR):
        return
    p = pixel_point(cam, depth, y, x)
    n = wp.vec3(normals[y, x, 0], normals[y, x, 1], normals[y, x, 2])
    now = wp.float32(0.0)
    before = wp.float32(0.0)
    for cell in range(9):
        items = around(panels, p, cell)
        for k in range(items[0], items[1]):
            li = panels.items[k]
            gap = panel_gap(panels, p, li)
            if gap > panels.cell:
                continue
            half = panels.half[li]
            area = 4.0 * half[0] * half[1]
            s = panels.position[li]
            # the renderer's light without shadows or occlusion: diffuse / pi + ambient * bounce
            direct = panel_irradiance(1.0, area, p, n, s) * 0.3183099
            bounce = bounce_from(1.0, area, s - p)
            if gap <= panels.reach[0]:
                now += panels.now[li] * (direct + panels.ambient[0] * bounce)
            if gap <= panels.reach[1]:
                before += panels.key[li] * (direct + panels.ambient[1] * bounce)
    if before > 0.0:
        ratio[i, j] = wp.min(now / before, MAX_RATIO) * panels.exposure
    elif now > 0.0:  # lit from none: as far as any ratio goes (no staircase between the two)
        ratio[i, j] = MAX_RATIO * panels.exposure


TABLE = 4096  # entries of the tone curve's tables over [0, 1]


def _tone_tables() -> tuple[np.ndarray, np.ndarray]:
    """(display value -> radiance, filmic value -> display value), each ``TABLE`` entries over [0, 1]:
    the renderer's ``tonemap`` (the filmic fit, then sRGB) undone and redone by table, where two
    powers per channel cost 7 ms a frame at 320x240."""
    v = np.linspace(0.0, 1.0, TABLE)
    return aces_inverse(srgb_decoded(v)).astype(np.float32), srgb_encoded(v).astype(np.float32)


@wp.func
def lookup(table: wp.array(dtype=wp.float32), value: float) -> float:
    """``table`` read at ``value`` in [0, 1], linearly between entries."""
    at = wp.clamp(value, 0.0, 1.0) * float(TABLE - 1)
    i = wp.min(int(at), TABLE - 2)
    return wp.lerp(table[i], table[i + 1], at - float(i))


@wp.func
def relit_value(
    value: float, radiance: float, r: float, shift: float, display: wp.array(dtype=wp.float32)
) -> float:
    """A display value in [0, 1], whose radiance is ``radiance`` (``lookup`` in the first of
    ``_tone_tables``), scaled by ``r``, then ``shift`` added (the haze's change); by ``-r`` itself
    if ``r`` is negative."""
    if r < 0.0:
        return wp.min(value * -r, 1.0)
    return lookup(display, filmic(wp.max(radiance * r + shift, 0.0)))


@wp.kernel
def decode_codes(radiance: wp.array(dtype=wp.float32), decoded: wp.array(dtype=wp.float32)):
    """The radiance of each 8-bit code (``lookup(radiance, code / 255)``): an 8-bit image's pixels
    read it from here, 3 table reads a pixel fewer."""
    code = wp.tid()
    decoded[code] = lookup(radiance, float(code) / 255.0)


@wp.func
def change_at(
    depth: wp.array2d(dtype=wp.float32),
    ids: wp.array2d(dtype=wp.uint32),
    ratio: wp.array2d(dtype=wp.float32),
    panels: Panels,
    y: int,
    x: int,
) -> wp.vec2:
    """Pixel (y, x)'s change of light: the grid's ratio (bilinear), or on a panel its own (negated);
    and the change of the haze in front of it (in radiance per unit of ``HAZE_COLOR``).

    The renderer blends a surface toward the haze's glow by its distance: radiance ``(1 - h) S +
    h G``. Under the new light the surface part scales by the ratio and the glow is the new one, so
    the radiance becomes ``ratio x (old radiance) + h (G_now - ratio G_key)``. A miss is all haze.
    Where the haze's density changed too, the surface's share ``1 - h`` changes by ``exp(-(density
    now - density then) t)``, which scales it with the ratio, and each frame's ``h`` takes its glow."""
    t = depth[y, x]
    if not (t < FAR):
        return wp.vec2(1.0, panels.glow[0] - panels.glow[1])
    li = panel_of(panels, ids[y, x])
    if li >= 0:
        return wp.vec2(panel_change(panels, li, t), 0.0)
    r = sample(ratio, float(x) / float(STEP), float(y) / float(STEP))
    if panels.haze[0] == panels.haze[1]:  # the same value as below, kept in the bytes it always had
        return wp.vec2(r, (1.0 - wp.exp(-panels.haze[0] * t)) * (panels.glow[0] - r * panels.glow[1]))
    r = r * wp.exp((panels.haze[1] - panels.haze[0]) * t)
    shift = (1.0 - wp.exp(-panels.haze[0] * t)) * panels.glow[0] - r * (
        1.0 - wp.exp(-panels.haze[1] * t)
    ) * panels.glow[1]
    return wp.vec2(r, shift)


@wp.kernel
def relight_codes(
    depth: wp.array2d(dtype=wp.float32),
    ids: wp.array2d(dtype=wp.uint32),
    ratio: wp.array2d(dtype=wp.float32),
    panels: Panels,
    decoded: wp.array(dtype=wp.float32),
    display: wp.array(dtype=wp.float32),
    lit: wp.array2d(dtype=wp.uint8),
    first_row: int,
    rgb: wp.array3d(dtype=wp.uint8),
):
    """An 8-bit image under the changed light (pixels whose light is unchanged keep their bytes, and
    so do those ``lit`` already: traced under this frame's light)."""
    row, x = wp.tid()
    y = row + first_row
    if lit[y, x] != wp.uint8(0):
        return
    change = change_at(depth, ids, ratio, panels, y, x)
    r = change[0]
    s = change[1]
    if r != 1.0 or s != 0.0:
        for c in range(3):
            code = rgb[y, x, c]
            value = relit_value(float(code) / 255.0, decoded[int(code)], r, s * HAZE_COLOR[c], display)
            rgb[y, x, c] = wp.uint8(wp.clamp(value * 255.0 + 0.5, 0.0, 255.0))


@wp.kernel
def relight_values(
    depth: wp.array2d(dtype=wp.float32),
    ids: wp.array2d(dtype=wp.uint32),
    ratio: wp.array2d(dtype=wp.float32),
    panels: Panels,
    radiance: wp.array(dtype=wp.float32),
    display: wp.array(dtype=wp.float32),
    image: wp.array3d(dtype=wp.float32),
    first_row: int,
    relit: wp.array3d(dtype=wp.float32),
):
    """A (3, H, W) image in [0, 1] under the changed light."""
    row, x = wp.tid()
    y = row + first_row
    change = change_at(depth, ids, ratio, panels, y, x)
    r = change[0]
    s = change[1]
    for c in range(3):
        value = image[c, y, x]
        if r != 1.0 or s != 0.0:
            value = relit_value(value, lookup(radiance, value), r, s * HAZE_COLOR[c], display)
        relit[c, y, x] = value


class Relighter:
    """Owns the light's grid and per-pixel change; :meth:`measure` finds how the light changed at a
    product's surfaces since the key frame, :meth:`codes` and :meth:`values` apply it."""

    def __init__(self, width: int, height: int, device: str) -> None:
        self.width, self.height, self.device = width, height, device
        self._bands = Bands(device, name="relight", rows=height)
        shape = (-(-height // STEP) + 1, -(-width // STEP) + 1)
        self._ratio = wp.zeros(shape, dtype=wp.float32, device=device)
        self._measured: list = []  # the last measure: the product's depth and ids, the grid, the panels
        self._tables = [wp.array(t, dtype=wp.float32, device=device) for t in _tone_tables()]
        self._decoded = wp.zeros(256, dtype=wp.float32, device=device)
        wp.launch(decode_codes, 256, [self._tables[0]], [self._decoded], device=device)
        self._binned_keys: np.ndarray | None = None
        self._binned_reach = 0.0
        self._binned_panels = Panels()

    def measure(
        self,
        product: RenderProduct,
        cam: CameraData,
        key_lights: dict[str, Any],
        key_shading: dict[str, Any],
    ) -> bool:
        """The change of light at ``product``'s surfaces (its ``depth`` and ``normals``) from the key
        frame's panels, ambient, exposure and haze to its own; False when none changed (nothing to
        re-light)."""
        panels = self._panels(product.meta["lights"], product.meta["shading"], key_lights, key_shading)
        if panels is None:
            return False
        wp.launch(panel_light, panels.now.shape[0] + 1, [panels, cam.position], device=self.device)
        grid = [cam, product[DEPTH], product[NORMALS], panels]
        wp.launch(light_ratio, self._ratio.shape, grid, [self._ratio], device=self.device)
        self._measured = [product[DEPTH], product[INSTANCE_ID], self._ratio, panels]
        return True

    def codes(self, rgb: wp.array, lit: wp.array) -> None:
        """Re-light an (H, W, 4) uint8 image in place by the last :meth:`measure`, but where ``lit``
        (H, W) is 1 (pixels already under this frame's light)."""
        inputs = [*self._measured, self._decoded, self._tables[1], lit]
        self._bands.launch_split(relight_codes, self.height, inputs, [rgb], self.width)

    def values(self, image01: torch.Tensor) -> torch.Tensor:
        """A (1, 3, H, W) image in [0, 1] re-lit by the last :meth:`measure`."""
        relit = torch.empty_like(image01)
        inputs = [*self._measured, *self._tables, wp.from_torch(image01[0].contiguous())]
        self._bands.launch_split(relight_values, self.height, inputs, [wp.from_torch(relit[0])], self.width)
        return relit

    def _panels(
        self,
        lights: dict[str, Any],
        shading: dict[str, Any],
        key_lights: dict[str, Any],
        key_shading: dict[str, Any],
    ) -> Panels | None:
        """This frame's panels with their gains at the key frame (matched by key: chunks may have
        loaded between; a panel new since then keeps its light), binned, with both frames' ambient,
        exposure, haze and reach (``render.light_radius``); None if nothing changed."""
        now = np.asarray(lights["gain"], np.float32)
        keys, before = np.asarray(key_lights["key"]), np.asarray(key_lights["gain"], np.float32)
        if not np.array_equal(keys, lights["key"]):
            known = dict(zip(keys.tolist(), before.tolist(), strict=True))
            pairs = zip(lights["key"].tolist(), now.tolist(), strict=True)
            before = np.array([known.get(k, g) for k, g in pairs], np.float32)
        frames = (shading, key_shading)
        ambient, exposure, haze, reach = (
            [float(f[name]) for f in frames] for name in ("ambient", "exposure", "haze", "reach")
        )
        if np.array_equal(before, now) and all(a == b for a, b in (ambient, exposure, haze, reach)):
            return None
        # binned as wide as the wider reach: a function of the two frames alone, so a seek's
        # panels sum in the order a long run's do
        panels = self._binned(lights, max(reach))
        panels.reach = wp.vec2(*reach)
        panels.now.assign(now)
        panels.key.assign(before)
        tinted = float(np.mean(np.asarray(shading["panel_albedo"]) * np.asarray(LIGHT_TINT)))
        emission = float(shading["panel_emission"])
        panels.ambient = wp.vec2(*ambient)
        panels.exposure = exposure[0] / exposure[1]
        panels.emission = wp.vec2(*(emission * e for e in exposure))
        panels.reflect = wp.vec2(*(tinted * a * e for a, e in zip(ambient, exposure, strict=True)))
        panels.haze = wp.vec2(*haze)
        panels.haze_glow = wp.vec2(*(HAZE_GLOW * a * e for a, e in zip(ambient, exposure, strict=True)))
        return panels

    def _binned(self, lights: dict[str, Any], reach: float) -> Panels:
        """The loaded panels binned on the floor plan in cells ``reach`` wide, with each one's
        neighbours within it, kept while the same panels are loaded at the same width (binning and
        uploading 2000 of them every frame cost 1.3 ms)."""
        keys = np.asarray(lights["key"])
        same = self._binned_keys is not None and np.array_equal(keys, self._binned_keys)
        if same and self._binned_reach == reach:
            return self._binned_panels
        position = np.asarray(lights["position"], np.float32).reshape(-1, 3)
        plan = np.floor(position[:, [0, 2]] / reach).astype(np.int64)
        low = plan.min(axis=0)
        plan -= low
        cols, rows = (plan.max(axis=0) + 1).tolist()
        flat = plan[:, 1] * cols + plan[:, 0]
        items = np.argsort(flat, kind="stable").astype(np.int32)
        start = np.searchsorted(flat[items], np.arange(cols * rows + 1)).astype(np.int32)
        panels = Panels()
        arrays = {
            "position": (position, wp.vec3),
            "half": (np.asarray(lights["half_size"], np.float32).reshape(-1, 2), wp.vec2),
            "now": (np.zeros(len(keys), np.float32), wp.float32),
            "key": (np.zeros(len(keys), np.float32), wp.float32),
            "lit_now": (np.zeros(len(keys), np.float32), wp.float32),
            "lit_key": (np.zeros(len(keys), np.float32), wp.float32),
            "glow": (np.zeros(2, np.float32), wp.float32),
            "start": (start, wp.int32),
            "items": (items, wp.int32),
        }
        for name, (values, dtype) in arrays.items():
            setattr(panels, name, wp.array(values, dtype=dtype, device=self.device))
        panels.origin = wp.vec2(*(low * reach).astype(np.float32).tolist())
        panels.cell = reach
        if same:  # only the reach moved (automated): the keys' table stands (1 ms to make in Python)
            old = self._binned_panels
            panels.slot_key, panels.slot_panel, panels.slot_shift = (
                old.slot_key,
                old.slot_panel,
                old.slot_shift,
            )
        else:
            slot_key, slot_panel, panels.slot_shift = key_slots(keys)
            panels.slot_key = wp.array(slot_key, dtype=wp.uint32, device=self.device)
            panels.slot_panel = wp.array(slot_panel, dtype=wp.int32, device=self.device)
        panels.cols, panels.rows = int(cols), int(rows)
        # each panel's neighbours within reach and their bounce shapes: fixed while these panels
        # are loaded, so a frame's reflected light is a short sum per panel (1 ms a frame otherwise)
        count = wp.zeros(len(keys), dtype=wp.int32, device=self.device)
        panels.first = panels.neighbour = wp.zeros(1, dtype=wp.int32, device=self.device)  # not read
        panels.shape = panels.gap = wp.zeros(1, dtype=wp.float32, device=self.device)
        wp.launch(list_neighbours, len(keys), [panels, False, count], device=self.device)
        first = np.concatenate([[0], np.cumsum(count.numpy())]).astype(np.int32)
        panels.first = wp.array(first, dtype=wp.int32, device=self.device)
        panels.neighbour = wp.zeros(int(first[-1]), dtype=wp.int32, device=self.device)
        panels.shape = wp.zeros(int(first[-1]), dtype=wp.float32, device=self.device)
        panels.gap = wp.zeros(int(first[-1]), dtype=wp.float32, device=self.device)
        wp.launch(list_neighbours, len(keys), [panels, True, count], device=self.device)
        self._binned_keys, self._binned_reach, self._binned_panels = keys.copy(), reach, panels
        return panels
