"""The per-pixel kernel: primary visibility with exact AOVs, then shading into linear radiance, in
one pass; exposure and tone mapping into LdrColor are a pass of their own (``expose``), so a frame
traced ahead can take the exposure of the instant it is shown."""

from __future__ import annotations

import numpy as np
import warp as wp

from backrooms.render.bins import BinData, tile_at
from backrooms.render.camera import CameraData, camera_ray, project
from backrooms.render.lighting import LIGHT_TINT, direct_light, panel_gain_at
from backrooms.render.scene import SceneData
from backrooms.render.surface import LIGHT_PANEL, surface, texel
from backrooms.render.trace import Hit, hit_normal, hit_uv, occluded, occluded_tile, trace_tile

# Rendering needs no gradients; skipping the adjoint code halves compile time.
wp.set_module_options({"enable_backward": False})

FAR = wp.constant(1.0e4)
HAZE_COLOR = wp.constant(wp.vec3(0.3, 0.27, 0.16))  # the yellow murk at the end of every corridor
HAZE_GLOW = wp.constant(3.0)  # the haze's glow per unit of ambient light around the camera
SURFACE_EPS = wp.constant(2.0e-3)


@wp.func
def cosine_direction(n: wp.vec3, r1: float, r2: float) -> wp.vec3:
    """A cosine-weighted direction about ``n`` from two uniform numbers (for ambient occlusion)."""
    phi = 6.283185307 * r1
    r = wp.sqrt(r2)
    # an orthonormal basis around n without a normalisation (Duff et al. 2017, "Building an
    # Orthonormal Basis, Revisited"), so the result is unit length by construction
    sign = wp.where(n[2] >= 0.0, 1.0, -1.0)
    a = -1.0 / (sign + n[2])
    c = n[0] * n[1] * a
    t = wp.vec3(1.0 + sign * n[0] * n[0] * a, sign * c, -sign * n[0])
    b = wp.vec3(c, sign + n[1] * n[1] * a, -n[1])
    return t * (r * wp.cos(phi)) + b * (r * wp.sin(phi)) + n * wp.sqrt(wp.max(0.0, 1.0 - r2))


SRGB_STEPS = wp.constant(4096)  # table resolution over [0, 1]: within one 8-bit code of the formula


def srgb_encoded(y: np.ndarray) -> np.ndarray:
    """The sRGB transfer function: linear values in [0, 1] to encoded ones."""
    return np.where(y <= 0.0031308, 12.92 * y, 1.055 * np.power(y, 1.0 / 2.4) - 0.055)


def srgb_table() -> np.ndarray:
    """8-bit sRGB codes for linear values i / (SRGB_STEPS - 1): a lookup instead of a pow per channel."""
    return np.round(srgb_encoded(np.linspace(0.0, 1.0, SRGB_STEPS)) * 255.0).astype(np.uint8)


@wp.func
def filmic(x: float) -> float:
    """Narkowicz's ACES fit: scene radiance to [0, 1], before the sRGB transfer function."""
    return wp.clamp((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14), 0.0, 1.0)


@wp.func
def tonemap(x: float, srgb: wp.array(dtype=wp.uint8)) -> wp.uint8:
    """Filmic curve (:func:`filmic`), then the sRGB transfer function by table."""
    return srgb[int(filmic(x) * float(SRGB_STEPS - 1) + 0.5)]


@wp.struct
class Shading:
    """This frame's ``render.*`` knobs and seeds, as the pixel kernel reads them."""

    noise_seed: int
    pattern_salt: int
    spp: int
    shadow_rays: int
    light_radius: float
    ambient: float
    ao_strength: float
    ao_radius: float
    haze: float
    wear: float
    radiance: float
    haze_light: wp.array(dtype=wp.float32)  # one number: how brightly the air around the camera glows
    jitter: wp.vec2  # where in its pixel the primary ray passes, from the centre (render.scale < 1)


@wp.func
def shade(
    scene: SceneData, cam: CameraData, s: Shading, hit: Hit, d: wp.vec3, n: wp.vec3, pixel: int
) -> wp.vec3:
    """Light the primary hit: panels (with shadows), occluded ambient, emission, then haze."""
    glow = HAZE_COLOR * (HAZE_GLOW * s.ambient * s.haze_light[0])
    if hit.instance < 0:
        return glow
    m = scene.triangle_material[hit.triangle]
    p = cam.position + hit.t * d
    albedo = scene.material_albedo[m]
    if scene.material_texture[m] >= 0:
        albedo = texel(scene.textures, scene.material_texture[m], hit_uv(scene, hit))
    look = scene.instance_look[hit.instance]
    pattern = scene.material_pattern[m]
    surf = surface(pattern, albedo, scene.material_roughness[m], p, n, look, s.pattern_salt, s.wear)
    emission = scene.material_emissive[m] * surf.emission_scale
    if pattern == LIGHT_PANEL:
        emission = emission * panel_gain_at(scene, p, s.radiance)
    r = surf.roughness
    shininess = wp.clamp(2.0 / (r * r * r * r + 1.0e-4) - 2.0, 1.0, 2000.0)
    origin = p + n * (SURFACE_EPS * (1.0 + 0.01 * hit.t))
    diffuse = wp.float32(0.0)
    specular = wp.float32(0.0)
    bounce = wp.float32(0.0)
    visible_sky = wp.float32(0.0)
    for k in range(s.spp):
        rng = wp.rand_init(s.noise_seed, 2 * (pixel + k))
        lit = direct_light(scene, origin, n, -d, shininess, s.light_radius, s.shadow_rays, rng)
        diffuse += lit[0]
        specular += lit[1]
        bounce += lit[2]
        if s.ao_strength > 0.0:
            rng = wp.rand_init(s.noise_seed, 2 * (pixel + k) + 1)
            ray = cosine_direction(n, wp.randf(rng), wp.randf(rng))
            # An occluder at distance t should count 1 - (1 - t/R)^2; a ray of random length L with
            # that CDF is blocked with exactly that probability, so an any-hit test of a ray that is
            # on average R/3 long has the same expectation as a closest-hit test of one R long.
            reach = s.ao_radius * (1.0 - wp.sqrt(1.0 - wp.randf(rng)))
            visible_sky += wp.where(occluded(scene, origin, ray, reach), 0.0, 1.0)
        else:
            visible_sky += 1.0
    inv = 1.0 / float(s.spp)
    ao = 1.0 - s.ao_strength * (1.0 - visible_sky * inv)
    light = (diffuse * 0.3183099 + s.ambient * bounce * ao) * inv
    color = wp.cw_mul(surf.albedo, LIGHT_TINT) * light + LIGHT_TINT * (0.04 * specular * inv) + emission
    return wp.lerp(color, glow, 1.0 - wp.exp(-s.haze * hit.t))


@wp.func
def trace_pixel(
    scene: SceneData,
    cam: CameraData,
    prev: CameraData,
    back: CameraData,
    further: bool,
    moved: bool,
    bins: BinData,
    back_bins: BinData,
    shading: Shading,
    y: int,
    x: int,
    depth: wp.array2d(dtype=wp.float32),
    normals: wp.array3d(dtype=wp.float32),
    motion: wp.array3d(dtype=wp.float32),
    instance_id: wp.array2d(dtype=wp.uint32),
    disocclusion: wp.array2d(dtype=wp.uint8),
    radiance: wp.array3d(dtype=wp.float32),
):
    """Trace the pixel centre (moved by ``shading.jitter``), write its AOVs, then light it.

    ``instance_id`` is the instance's stable key (0 is kept for misses), so a piece of wall keeps its
    id while chunks stream in and out. Motion is exact: the hit point is projected with the previous
    camera (misses use their direction at infinity), from the point traced. A hit is disoccluded
    when it falls outside the image of ``back`` or something lay between it and that camera:
    ``back`` is the previous camera, or with frame generation the last traced frame's (``further``:
    whether it stands elsewhere than ``prev``, so the point is projected once more; ``moved``:
    whether it stands elsewhere than ``cam``).
    """
    px = float(x) + 0.5 + shading.jitter[0]
    py = float(y) + 0.5 + shading.jitter[1]
    d = camera_ray(cam, px, py)
    hit = trace_tile(scene, bins, tile_at(bins, px, py, cam.width, cam.height), cam.position, d, FAR)
    offset = d
    back_offset = d
    revealed = wp.uint8(0)
    n = wp.vec3(0.0)
    if hit.instance >= 0:
        n = hit_normal(scene, hit, d)
        point = cam.position + hit.t * d
        offset = point - prev.position
        back_offset = point - back.position
        depth[y, x] = hit.t
        for c in range(3):
            normals[y, x, c] = n[c]
        normals[y, x, 3] = 1.0
        instance_id[y, x] = wp.max(scene.instance_key[hit.instance], wp.uint32(1))
    else:
        depth[y, x] = wp.inf
        for c in range(4):
            normals[y, x, c] = 0.0
        instance_id[y, x] = wp.uint32(0)
    before = project(prev, offset)
    seen = before
    if further:
        seen = project(back, back_offset)
    inside = seen[2] > 0.0 and seen[0] >= 0.0 and seen[1] >= 0.0
    inside = inside and seen[0] <= float(back.width) and seen[1] <= float(back.height)
    if hit.instance >= 0:
        dist = wp.length(back_offset)
        if not inside:
            revealed = wp.uint8(1)
        elif moved and dist > SURFACE_EPS:  # unmoved: the way back is the primary ray, free by construction
            tile = tile_at(back_bins, seen[0], seen[1], back.width, back.height)
            reach = dist * (1.0 - 1.0e-4) - SURFACE_EPS
            blocked = occluded_tile(scene, back_bins, tile, back.position, back_offset / dist, reach)
            revealed = wp.where(blocked, wp.uint8(1), wp.uint8(0))
    if before[2] > 0.0:
        motion[y, x, 0] = px - before[0]
        motion[y, x, 1] = py - before[1]
    else:
        motion[y, x, 0] = 0.0
        motion[y, x, 1] = 0.0
    motion[y, x, 2] = 0.0
    motion[y, x, 3] = 0.0
    disocclusion[y, x] = revealed
    color = shade(scene, cam, shading, hit, d, n, (y * cam.width + x) * shading.spp)
    for c in range(3):
        radiance[y, x, c] = color[c]


@wp.kernel
def pixels(
    scene: SceneData,
    row0: int,
    row_step: int,
    cam: CameraData,
    prev: CameraData,
    back: CameraData,
    further: bool,
    moved: bool,
    bins: BinData,
    back_bins: BinData,
    shading: Shading,
    depth: wp.array2d(dtype=wp.float32),
    normals: wp.array3d(dtype=wp.float32),
    motion: wp.array3d(dtype=wp.float32),
    instance_id: wp.array2d(dtype=wp.uint32),
    disocclusion: wp.array2d(dtype=wp.uint8),
    radiance: wp.array3d(dtype=wp.float32),
):
    """:func:`trace_pixel` over rows ``row0``, ``row0 + row_step``, ... of the image."""
    y, x = wp.tid()
    trace_pixel(
        scene,
        cam,
        prev,
        back,
        further,
        moved,
        bins,
        back_bins,
        shading,
        row0 + y * row_step,
        x,
        depth,
        normals,
        motion,
        instance_id,
        disocclusion,
        radiance,
    )


@wp.kernel
def listed_pixels(
    scene: SceneData,
    listed: wp.array(dtype=wp.int32),
    cam: CameraData,
    prev: CameraData,
    back: CameraData,
    further: bool,
    moved: bool,
    bins: BinData,
    back_bins: BinData,
    shading: Shading,
    first: int,
    depth: wp.array2d(dtype=wp.float32),
    normals: wp.array3d(dtype=wp.float32),
    motion: wp.array3d(dtype=wp.float32),
    instance_id: wp.array2d(dtype=wp.uint32),
    disocclusion: wp.array2d(dtype=wp.uint8),
    radiance: wp.array3d(dtype=wp.float32),
):
    """:func:`trace_pixel` at the pixels ``listed`` (y * width + x) from index ``first`` on: a few
    pixels of a frame, without a thread for every other one."""
    at = listed[first + wp.tid()]
    trace_pixel(
        scene,
        cam,
        prev,
        back,
        further,
        moved,
        bins,
        back_bins,
        shading,
        at // cam.width,
        at % cam.width,
        depth,
        normals,
        motion,
        instance_id,
        disocclusion,
        radiance,
    )


@wp.kernel
def expose(
    radiance: wp.array3d(dtype=wp.float32),
    scale: float,
    srgb: wp.array(dtype=wp.uint8),
    rgb: wp.array3d(dtype=wp.uint8),
):
    """Exposure (``scale`` = 2^EV), the filmic curve and sRGB: linear radiance to LdrColor."""
    y, x = wp.tid()
    expose_pixel(radiance, scale, srgb, y, x, rgb)


@wp.kernel
def expose_listed(
    radiance: wp.array3d(dtype=wp.float32),
    scale: float,
    srgb: wp.array(dtype=wp.uint8),
    listed: wp.array(dtype=wp.int32),
    rgb: wp.array3d(dtype=wp.uint8),
):
    """:func:`expose_pixel` at the pixels ``listed`` (y * width + x)."""
    at = listed[wp.tid()]
    expose_pixel(radiance, scale, srgb, at // rgb.shape[1], at % rgb.shape[1], rgb)


@wp.func
def expose_pixel(
    radiance: wp.array3d(dtype=wp.float32),
    scale: float,
    srgb: wp.array(dtype=wp.uint8),
    y: int,
    x: int,
    rgb: wp.array3d(dtype=wp.uint8),
):
    """Exposure (``scale`` = 2^EV), the filmic curve and sRGB at pixel (y, x)."""
    for c in range(3):
        rgb[y, x, c] = tonemap(radiance[y, x, c] * scale, srgb)
    rgb[y, x, 3] = wp.uint8(255)
