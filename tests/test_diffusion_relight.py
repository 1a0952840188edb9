"""The panels' light on frames the node remembers or generates: the render's, not the key frame's."""

import numpy as np
import pytest
import torch
import warp as wp

from backrooms.diffusion import pixels, relight
from backrooms.graph.executor import Executor
from backrooms.graph.node import GraphContext
from backrooms.graph.product import DEPTH, INSTANCE_ID, NORMALS, RGB, RenderProduct
from backrooms.params import ParamStore
from backrooms.render.kernels import srgb_table, tonemap
from cuda_compile import assert_compiles_for_cuda

STILL_LIGHTS = {"render.flicker": 0.0, "render.hum": 0.0, "render.stutter": 0.0}


@wp.kernel
def _relit_codes(
    radiance: wp.array(dtype=wp.float32),
    display: wp.array(dtype=wp.float32),
    r: float,
    codes: wp.array(dtype=wp.int32),
):
    c = wp.tid()
    value = float(c) / 255.0
    codes[c] = int(relight.relit_value(value, relight.lookup(radiance, value), r, 0.0, display) * 255.0 + 0.5)


@wp.kernel
def _tone_mapped(
    radiance: wp.array(dtype=wp.float32), srgb: wp.array(dtype=wp.uint8), codes: wp.array(dtype=wp.int32)
):
    codes[wp.tid()] = int(tonemap(radiance[wp.tid()], srgb))


def _codes(r: float) -> np.ndarray:
    tables = [wp.array(t, dtype=wp.float32) for t in relight._tone_tables()]
    codes = wp.zeros(256, dtype=wp.int32)
    wp.launch(_relit_codes, 256, [*tables, r], [codes])
    return codes.numpy()


@pytest.mark.parametrize("r", [0.3, 0.8, 1.25])
def test_the_tone_curve_is_undone_and_redone_as_the_renderer_tone_maps(r):
    """Unchanged light keeps every code; a changed one gives the code the renderer's own ``tonemap``
    gives the scaled radiance (within the one code its 4096-step table is off the formula)."""
    assert np.array_equal(_codes(1.0), np.arange(256))
    # each code's radiance, from the formula the tables hold (sRGB decoded, the filmic fit inverted)
    v = np.arange(256) / 255.0
    y = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    a, b = 2.51 - 2.43 * y, 0.03 - 0.59 * y
    x = (-b + np.sqrt(b * b + 0.56 * y * a)) / (2.0 * a)
    expected = wp.zeros(256, dtype=wp.int32)
    srgb = wp.array(srgb_table(), dtype=wp.uint8)
    wp.launch(_tone_mapped, 256, [wp.array((x * r).astype(np.float32)), srgb], [expected])
    assert (
        np.abs(_codes(r)[:255] - expected.numpy()[:255]).max() <= 1
    )  # 255: any radiance past the curve's top


def _shown(x: float) -> float:
    """The renderer's curve, as relight.shown: the filmic fit, then sRGB."""
    y = min(max(x * (2.51 * x + 0.03) / (x * (2.43 * x + 0.59) + 0.14), 0.0), 1.0)
    return 12.92 * y if y <= 0.0031308 else 1.055 * y ** (1 / 2.4) - 0.055


@wp.kernel
def _panels_of(panels: relight.Panels, keys: wp.array(dtype=wp.uint32), found: wp.array(dtype=wp.int32)):
    found[wp.tid()] = relight.panel_of(panels, keys[wp.tid()])


@pytest.mark.parametrize("count", [0, 1, 5, 2000])
def test_a_pixels_instance_is_looked_up_among_the_panels_keys(count):
    """Every panel's key finds its panel (the first, for a key two panels share), any other key -1,
    whatever the count (the table is at least twice as large as the panels)."""
    rng = np.random.default_rng(count)
    keys = rng.choice(np.arange(1, 1 << 32, 977, dtype=np.uint64), count, replace=False).astype(np.uint32)
    if count > 1:
        keys[-1] = keys[0]  # shared: the first panel's
    panels = relight.Panels()
    slot_key, slot_panel, panels.slot_shift = relight.key_slots(keys)
    assert len(slot_panel) >= 2 * count and (slot_panel >= 0).sum() == len(set(keys.tolist()))
    panels.slot_key = wp.array(slot_key, dtype=wp.uint32)
    panels.slot_panel = wp.array(slot_panel, dtype=wp.int32)
    others = rng.integers(0, 1 << 32, 5000, dtype=np.uint64).astype(np.uint32)
    asked = np.concatenate([keys, others, [0]]).astype(np.uint32)
    found = wp.zeros(len(asked), dtype=wp.int32)
    wp.launch(_panels_of, len(asked), [panels, wp.array(asked, dtype=wp.uint32)], [found])
    first = {}
    for panel, key in enumerate(keys.tolist()):
        first.setdefault(key, panel)
    assert found.numpy().tolist() == [first.get(key, -1) for key in asked.tolist()]


def test_keys_crowding_the_table_s_end_are_found_past_it():
    """64 keys whose searches all start in the last 8 of 128 slots: most run past the end and go
    on from slot 0; each is found, and a key not among them still stops at a free slot."""
    rng = np.random.default_rng(9)
    candidates = rng.integers(1, 1 << 32, 200_000, dtype=np.uint64)
    home = ((candidates * relight.HASH) & 0xFFFFFFFF) >> np.uint64(25)  # 128 slots: the top 7 bits
    keys = np.unique(candidates[home >= 120])[:64].astype(np.uint32)
    panels = relight.Panels()
    slot_key, slot_panel, panels.slot_shift = relight.key_slots(keys)
    assert len(slot_panel) == 128 and (slot_panel[:56] >= 0).any()  # some wrapped to the start
    panels.slot_key = wp.array(slot_key, dtype=wp.uint32)
    panels.slot_panel = wp.array(slot_panel, dtype=wp.int32)
    asked = np.concatenate([keys, candidates[home >= 120][-50:].astype(np.uint32)])
    found = wp.zeros(len(asked), dtype=wp.int32)
    wp.launch(_panels_of, len(asked), [panels, wp.array(asked, dtype=wp.uint32)], [found])
    where = {key: panel for panel, key in enumerate(keys.tolist())}
    assert found.numpy().tolist() == [where.get(key, -1) for key in asked.tolist()]


def test_a_panels_own_pixels_follow_how_the_renderer_shows_it():
    """A panel's pixels (instance id = its light's key) scale in display value by the tone curve's
    view of the panel at the two gains: its emission, the bounce it reflects (its own and its
    neighbour's) and the haze in front of it. A dip from 4 to 1 leaves a saturated panel nearly as
    it was; going out takes it to the grey of what it reflects and the haze (before: black, where
    the render shows that grey); the wall beside it follows the grid's ratio in linear light."""
    w, h = 8, 8
    product = RenderProduct(0, w, h, "cpu")
    wp.to_torch(product.allocate(DEPTH))[:] = 2.0
    wp.to_torch(product.allocate(NORMALS))[..., 2] = 1.0  # facing the camera, which looks down -Z
    ids = wp.to_torch(product.allocate(INSTANCE_ID))
    ids[:, : w // 2] = 7  # the left half shows panel 7
    rgb = wp.to_torch(product.allocate(RGB))
    camera = {"position": [0.0, 0.0, 0.0], "rotation": np.eye(3).tolist(), "fov_y": 60.0}
    lights = {
        "key": np.array([7, 9], np.uint32),
        "position": np.array([[0.0, 1.0, -2.0], [3.0, 1.0, -2.0]], np.float32),
        "half_size": np.full((2, 2), 0.5, np.float32),
    }
    albedo, ambient, haze = (0.62, 0.62, 0.6), 0.08, 0.2
    product.meta["shading"] = {
        "reach": 7.0,
        "ambient": ambient,
        "panel_emission": 5.7,
        "panel_albedo": albedo,
        "haze": haze,
        "exposure": 1.0,
    }
    reflect = np.mean(np.multiply(albedo, (1.0, 0.95, 0.78))) * ambient  # tinted as the tubes light it
    fog = 1.0 - np.exp(-haze * 2.0)  # the pixels are 2 m away

    def seen(gain7: float, exposure: float = 1.0) -> float:
        """Panel 7 as the renderer shows it: emission, the bounce it reflects (its own, 4 x gain
        for a unit panel, and panel 9's, 3 m off), and the glow of the haze around the camera."""
        lit = reflect * (4.0 * gain7 + 5.0 / (9.0 + 0.25))
        glow = np.mean((0.3, 0.27, 0.16)) * 3.0 * ambient * (gain7 / 5.25 + 5.0 / 14.25)
        return _shown(exposure * ((1.0 - fog) * (5.7 * gain7 + lit) + fog * glow))

    relighter, walls = relight.Relighter(w, h, "cpu"), []
    for before, now in ((4.0, 1.0), (4.0, 0.0), (0.0, 4.0)):
        product.meta["lights"] = {**lights, "gain": np.array([now, 5.0], np.float32)}
        key = {**lights, "gain": np.array([before, 5.0], np.float32)}
        start = 200 if before else 40
        rgb[:] = start
        assert relighter.measure(product, pixels.lens_camera(camera, w, h), key, product.meta["shading"])
        lit = np.zeros((h, w), np.uint8)
        lit[0] = 1  # the top row traced under this frame's light already (a generated frame's edge)
        relighter.codes(product[RGB], wp.array(lit, dtype=wp.uint8))
        expected = min(255, round(start * seen(now) / seen(before)))
        assert (rgb[0, :, :3] == start).all()  # left as traced
        assert (rgb[1:, : w // 2, :3].int() - expected).abs().max() <= 1, (now, rgb[1, 0], expected)
        walls.append(float(rgb[:, w // 2 :, :3].float().mean()))
        if now == 0.0:
            assert 10 < expected < 100  # gone out: grey, not black
        if before == 0.0:
            assert expected == 255  # dark at the key frame, lit now: lit up from its grey
    # the wall beside it is lit by both panels: it dims with panel 7 (in linear light, so more than
    # the saturated panel shows), and stays lit by panel 9 when 7 goes out
    assert 0 < walls[1] < walls[0] < 190

    # the same panels, ``render.exposure`` raised by one stop since the key frame: the wall's
    # radiance doubles (the haze's glow doubles with it: no shift), the panel shows what the curve
    # shows of it twice as bright
    gains = {**lights, "gain": np.array([0.05, 5.0], np.float32)}  # a dim panel: below the shoulder
    product.meta["lights"] = gains
    product.meta["shading"] = {**product.meta["shading"], "exposure": 2.0}
    key_shading = {**product.meta["shading"], "exposure": 1.0}
    rgb[:] = 100
    assert relighter.measure(product, pixels.lens_camera(camera, w, h), gains, key_shading)
    relighter.codes(product[RGB], wp.array(np.zeros((h, w), np.uint8), dtype=wp.uint8))
    assert (rgb[:, w // 2 :, :3].int() - int(_codes(2.0)[100])).abs().max() <= 1
    expected = round(100 * seen(0.05, 2.0) / seen(0.05))
    assert expected > 110 and (rgb[:, : w // 2, :3].int() - expected).abs().max() <= 1, expected
    product.meta["shading"] = key_shading  # nothing changed: nothing to re-light
    assert not relighter.measure(product, pixels.lens_camera(camera, w, h), gains, key_shading)


def test_a_blackout_on_a_generated_frame_shows_the_render_s_light():
    """``render.blackout`` automated live from 0 to 0.5 on a generated frame (``generate`` 2), and
    back. The panels that went out show about what the render shows of them on that frame (a hazy
    grey: 36 of 255 on their 111 pixels here, the node 30), the ones that came on are lit (248, the
    node 246); before, the first went black (0) and the second stayed grey (36) until the next
    traced frame. The whole frame stays about as close to the render as a generated frame two
    frames before (mean |node - render| 4.6 and 4.5 there): going out 4.3 (before 6.3: the walls lit
    only by panels that went out turned black where the render keeps the haze's glow), coming on
    6.4 (before 10.1: walls lit only by panels that came on stayed dark, with the light grid's
    steps at their edge; they still cannot be lit to the render's level from the key frame's dark,
    only toward it, until the next traced frame)."""
    at, values = 77, {"render.scale": 0.75, "diffusion.generate": 2}
    for first, then in ((0.0, 0.5), (0.5, 0.0)):
        snapshots = [ParamStore(values={**values, "render.blackout": b}).snapshot() for b in (first, then)]
        frames, panels = {}, {}
        for nodes in (("render",), ("render", "diffusion")):
            executor = Executor(
                nodes, GraphContext(0, 320, 240, 24.0, "cpu"), lambda f, s=snapshots: s[f >= at]
            )
            made = {}
            for f in range(at - 4, at + 1):
                product = executor.render(f)
                made[f] = product[RGB].numpy()[..., :3].astype(float)
                if f == at - 1:
                    before = product.meta["lights"]
            now = product.meta["lights"]
            changed = np.asarray(now["key"])[
                (np.asarray(before["gain"]) > 0) != (np.asarray(now["gain"]) > 0)
            ]
            frames[nodes[-1]], panels[nodes[-1]] = made, np.isin(product[INSTANCE_ID].numpy(), changed)
            executor.close()
        assert not product.meta["traced"]  # the node's frame is generated
        render, node = frames["render"], frames["diffusion"]
        pixels = (
            panels["render"] & panels["diffusion"]
        )  # the panels' pixels in both (edges move with the jitter)
        assert pixels.sum() >= 50, pixels.sum()
        shown, made = float(render[at][pixels].mean()), float(node[at][pixels].mean())
        assert (0.6 if then else 0.8) * shown <= made <= 1.25 * shown + 2, (first, then, shown, made)
        steady, changed_frame = (float(np.abs(node[f] - render[f]).mean()) for f in (at - 2, at))
        assert changed_frame <= (1.1 if then else 1.6) * steady, (first, then, steady, changed_frame)


def _light_in_frame_means(nodes: tuple, frames: range, **values) -> torch.Tensor:
    """Per frame: the frame's mean brightness with the panels' hum, flicker and stutter minus the same
    with still panels: what the changing light adds (the walk and its noise are the same in both)."""
    means = []
    for lights in ({}, STILL_LIGHTS):
        snapshot = ParamStore(values={**values, **lights}).snapshot()
        executor = Executor(nodes, GraphContext(0, 160, 120, 24.0, "cpu"), lambda _f, s=snapshot: s)
        means.append(
            torch.tensor(
                [float(wp.to_torch(p[RGB])[..., :3].float().mean()) for p in executor.stream(frames)]
            )
        )
        executor.close()
    return means[0] - means[1]


@pytest.mark.parametrize(("k", "scale"), [(2, 0.5), (1, 0.5)])
def test_the_output_follows_the_panels_light_frame_by_frame(k, scale):
    """Over a flickering, humming walk the light's share of each frame's brightness after the node
    follows the render's: on frames generated from a key frame (``generate`` 2, re-lit by the panels'
    change since) and on traced frames below full size (whose reconstruction carries its history
    re-lit). Before, the node kept about a fifth of it at ``generate`` 2 (slope 0.22, correlation 0.46
    on this walk) and 0.4 at ``generate`` 1, scale 0.5."""
    frames = range(40, 72)
    render = _light_in_frame_means(("render",), frames, **{"render.scale": scale})
    node = _light_in_frame_means(
        ("render", "diffusion"), frames, **{"render.scale": scale, "diffusion.generate": k}
    )
    a, b = render - render.mean(), node - node.mean()
    slope = float((a * b).sum() / (a * a).sum())
    correlation = float((a * b).sum() / (a.norm() * b.norm()))
    assert float(a.abs().max()) > 1.0  # the walk does flicker: the light moves the mean by over a code
    assert 0.8 <= slope <= 1.25, slope
    assert correlation >= 0.9, correlation


@pytest.mark.parametrize(
    ("knob", "amplitude", "correlation_at_least"),
    [
        ("render.exposure", 0.5, 0.95),
        ("render.ambient", 0.03, 0.95),
        ("render.haze", 0.03, 0.9),
        ("render.light_radius", 3.0, 0.95),
    ],
)
def test_the_output_follows_an_automated_light(knob, amplitude, correlation_at_least):
    """``render.exposure`` (+-0.5 EV), ``render.ambient`` (0.08 +- 0.03), ``render.haze`` (0.035 +-
    0.03) or ``render.light_radius`` (7 +- 3 m) wobbling frame by frame, as a DAW automates them, at
    the defaults (``generate`` 2, scale 0.75): each frame's change of mean brightness after the node
    follows the render's. Before, a generated frame kept its key frame's and the output moved about
    half as much (slope 0.53 / 0.57 / 0.70, correlation 0.68 / 0.68 / 0.87 on this walk; now 1.05 /
    1.06 / 0.93), the light's reach a fifth as much (slope 0.18, correlation 0.38; now 1.08 / 0.99)."""
    default = ParamStore().snapshot()[knob]

    def means(nodes: tuple) -> torch.Tensor:
        def at(frame: int):
            return ParamStore(values={knob: default + amplitude * np.sin(frame / 2.0)}).snapshot()

        executor = Executor(nodes, GraphContext(0, 160, 120, 24.0, "cpu"), at)
        made = [float(wp.to_torch(p[RGB])[..., :3].float().mean()) for p in executor.stream(range(40, 72))]
        executor.close()
        return torch.tensor(made).diff()

    render, node = means(("render",)), means(("render", "diffusion"))
    slope = float((render * node).sum() / (render * render).sum())
    correlation = float((render * node).sum() / (render.norm() * node.norm()))
    assert float(render.abs().max()) > 2.0  # the knob moves the frame's mean by over two codes
    assert 0.85 <= slope <= 1.2, slope
    assert correlation >= correlation_at_least, correlation


def test_relight_kernels_compile_for_a_gpu(tmp_path):
    assert_compiles_for_cuda(relight, tmp_path)
