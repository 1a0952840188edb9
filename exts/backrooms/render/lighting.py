"""Ceiling panels as rectangular area lights: per-frame flicker and failure, and direct lighting
with shadow rays toward the few panels that matter most at each point.
"""

from __future__ import annotations

import warp as wp

from backrooms.render.scene import SceneData
from backrooms.render.trace import cell_number, cell_of, occluded

wp.set_module_options({"enable_backward": False})  # no gradients through the lights

MAX_SHADOW_RAYS = wp.constant(4)
LIGHT_TINT = wp.constant(wp.vec3(1.0, 0.95, 0.78))  # aged cool-white tubes behind yellowed diffusers
WORTH_A_RAY = wp.constant(0.15)  # a panel this much dimmer than the brightest borrows its visibility
SHADOW_GAP = wp.constant(0.03)  # shadow rays stop short of the panel so they do not hit its own quad ...
PANEL_CLEARANCE = wp.constant(0.002)  # ... and below its plane: a panel emits downward, so nothing at or
# above that plane can shade it, and grazing rays need not enter the fixture's box


@wp.kernel
def light_gains(
    scene: SceneData,
    frame_seed: int,
    burst_seed: int,
    blackout_seed: int,
    hum_seed: int,
    radiance: float,
    flicker: float,
    stutter: float,
    blackout: float,
    hum: float,
):
    """Each panel's radiance this frame: dead panels stay dark, flickering ones stutter in bursts."""
    i = wp.tid()
    key = int(scene.light_key[i])
    gain = (
        radiance * scene.light_intensity[i] * (1.0 + hum * (2.0 * wp.randf(wp.rand_init(hum_seed, 0)) - 1.0))
    )
    state = scene.light_state[i]
    if state == 2 or wp.randf(wp.rand_init(blackout_seed, key)) < blackout:
        gain = 0.0
    elif state == 1:
        rng = wp.rand_init(frame_seed, key)
        shimmer = 1.0 - 0.08 * flicker * wp.randf(rng)
        if wp.randf(wp.rand_init(burst_seed, key)) < stutter:
            dip = wp.randf(rng)
            shimmer = wp.where(dip < 0.5, 1.0 - flicker, 1.0 - flicker * dip)
        gain = gain * shimmer
    scene.light_gain[i] = gain


@wp.func
def bounce_from(gain: float, area: float, w: wp.vec3) -> float:
    """A panel's light reaching a point ``w`` away from any side: what the walls scatter as ambient."""
    return gain * area / (wp.dot(w, w) + 0.25 * area)


@wp.func
def panel_bounce(scene: SceneData, p: wp.vec3, i: int) -> float:
    """Panel ``i``'s :func:`bounce_from` at ``p``."""
    half = scene.light_half_size[i]
    return bounce_from(scene.light_gain[i], 4.0 * half[0] * half[1], scene.light_position[i] - p)


@wp.func
def within(scene: SceneData, p: wp.vec3, i: int, radius: float) -> bool:
    """Whether ``p`` is within ``radius`` of panel ``i``'s rectangle."""
    half = scene.light_half_size[i]
    gap = wp.max(wp.abs(p - scene.light_position[i]) - wp.vec3(half[0], 0.0, half[1]), wp.vec3(0.0))
    return wp.dot(gap, gap) <= radius * radius


@wp.kernel
def haze_light(scene: SceneData, eye: wp.vec3, radius: float, level: wp.array(dtype=wp.float32)):
    """One number per frame: how brightly the air around the camera glows (launched with dim 1)."""
    total = wp.float32(0.0)
    c = cell_number(scene.lights, cell_of(scene.lights, eye))
    for k in range(scene.lights.start[c], scene.lights.start[c + 1]):
        i = scene.lights.items[k]
        if within(scene, eye, i, radius):
            total += panel_bounce(scene, eye, i)
    level[0] = total


@wp.func
def panel_gain_at(scene: SceneData, p: wp.vec3, radiance: float) -> float:
    """This frame's radiance of the panel whose rectangle contains ``p`` (``radiance`` if none does)."""
    c = cell_number(scene.lights, cell_of(scene.lights, p))
    for k in range(scene.lights.start[c], scene.lights.start[c + 1]):
        i = scene.lights.items[k]
        if within(scene, p, i, 0.05):
            return scene.light_gain[i]
    return radiance


@wp.func
def panel_irradiance(gain: float, area: float, p: wp.vec3, n: wp.vec3, s: wp.vec3) -> float:
    """Irradiance at ``p`` (normal ``n``) from a downward-facing panel treated as a disc around ``s``."""
    w = s - p
    d2 = wp.dot(w, w)
    d = wp.sqrt(d2)
    cos_surface = wp.dot(n, w) / d
    cos_light = w[1] / d
    if cos_surface <= 0.0 or cos_light <= 0.0:
        return 0.0
    return gain * area * cos_surface * cos_light / (d2 + 0.25 * area)


@wp.func
def direct_light(
    scene: SceneData,
    p: wp.vec3,
    n: wp.vec3,
    to_eye: wp.vec3,
    shininess: float,
    radius: float,
    shadow_rays: int,
    rng: wp.uint32,
) -> wp.vec3:
    """(diffuse irradiance, specular, bounce): panels within ``radius`` are summed unshadowed, the
    ``shadow_rays`` brightest get a shadow ray to a random point on them (unless one gives less
    than ``WORTH_A_RAY`` of the brightest's light: its shadow would hardly show), and the rest
    borrow those rays' average visibility. ``bounce`` is the panels' light arriving from any side, which
    scales the ambient term, so a corridor whose panels die goes dark, ceiling included."""
    if scene.light_count == 0:
        return wp.vec3(0.0)
    rays = wp.min(shadow_rays, MAX_SHADOW_RAYS)
    top_e = wp.vec4(0.0)
    top_i = wp.vec4i(-1)
    total = wp.float32(0.0)
    bounce = wp.float32(0.0)
    c = cell_number(scene.lights, cell_of(scene.lights, p))
    for k in range(scene.lights.start[c], scene.lights.start[c + 1]):
        i = scene.lights.items[k]
        if not within(scene, p, i, radius):
            continue
        half = scene.light_half_size[i]
        bounce += panel_bounce(scene, p, i)
        e = panel_irradiance(scene.light_gain[i], 4.0 * half[0] * half[1], p, n, scene.light_position[i])
        if e > 0.0:
            total += e
            ce = e
            ci = i
            for j in range(rays):  # keep the brightest few, brightest first
                if ce > top_e[j]:
                    te = top_e[j]
                    ti = top_i[j]
                    top_e[j] = ce
                    top_i[j] = ci
                    ce = te
                    ci = ti
    if total <= 0.0:
        return wp.vec3(0.0, 0.0, bounce)
    diffuse = wp.float32(0.0)
    specular = wp.float32(0.0)
    tested = wp.float32(0.0)
    seen = wp.float32(0.0)
    for j in range(rays):
        li = top_i[j]
        if li >= 0 and top_e[j] >= WORTH_A_RAY * top_e[0]:
            half = scene.light_half_size[li]
            offset = wp.vec3(
                (2.0 * wp.randf(rng) - 1.0) * half[0], 0.0, (2.0 * wp.randf(rng) - 1.0) * half[1]
            )
            s = scene.light_position[li] + offset
            w = s - p
            d = wp.length(w)
            e = panel_irradiance(scene.light_gain[li], 4.0 * half[0] * half[1], p, n, s)
            # lit means the panel is above the point (w[1] > 0), so its plane is ahead of the ray
            lit = e > 0.0
            if lit:
                reach = wp.min(d - SHADOW_GAP, (w[1] - PANEL_CLEARANCE) * d / w[1])
                lit = not occluded(scene, p, w / d, reach)
            if lit:
                diffuse += e
                h = wp.normalize(w / d + to_eye)
                specular += e * wp.pow(wp.max(wp.dot(n, h), 0.0), shininess) * (shininess + 8.0) / 25.13
                seen += top_e[j]
            tested += top_e[j]
    rest = total - tested
    if tested > 0.0:
        rest = rest * seen / tested
    return wp.vec3(diffuse + rest, specular, bounce)
