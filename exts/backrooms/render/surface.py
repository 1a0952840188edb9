"""Procedural Backrooms materials: yellowed wallpaper, damp carpet, drop-ceiling tiles, light diffusers.

Patterns are functions of world-space surface coordinates (metres along the surface: x/z on floors
and ceilings, horizontal/height on walls), the instance's ``look`` variant and the run's seed, so
modular pieces join without seams and a wall looks the same from every frame and every machine.
"""

from __future__ import annotations

import warp as wp

from backrooms.render.scene import PATTERNS

WALLPAPER = wp.constant(PATTERNS.index("wallpaper"))
CARPET = wp.constant(PATTERNS.index("carpet"))
CEILING_TILE = wp.constant(PATTERNS.index("ceiling_tile"))
LIGHT_PANEL = wp.constant(PATTERNS.index("light_panel"))
TRIM = wp.constant(PATTERNS.index("trim"))

TAU = wp.constant(6.283185307)
STAIN = wp.constant(wp.vec3(0.72, 0.6, 0.36))  # tea-coloured water damage
TBAR = wp.constant(wp.vec3(0.62, 0.6, 0.55))  # the ceiling grid's painted metal


@wp.struct
class Surface:
    albedo: wp.vec3
    roughness: float
    emission_scale: float  # multiplies the material's emissive colour


@wp.func
def texel(textures: wp.array3d(dtype=wp.vec3), index: int, uv: wp.vec2) -> wp.vec3:
    """Bilinear, repeating lookup of texture ``index`` (uv in [0, 1) per repeat, v up)."""
    size = textures.shape[1]
    x = (uv[0] - wp.floor(uv[0])) * float(size) - 0.5
    y = (wp.ceil(uv[1]) - uv[1]) * float(size) - 0.5
    fx = wp.floor(x)
    fy = wp.floor(y)
    tx = x - fx
    ty = y - fy
    x0 = (int(fx) % size + size) % size
    y0 = (int(fy) % size + size) % size
    x1 = (x0 + 1) % size
    y1 = (y0 + 1) % size
    top = wp.lerp(textures[index, y0, x0], textures[index, y0, x1], tx)
    bottom = wp.lerp(textures[index, y1, x0], textures[index, y1, x1], tx)
    return wp.lerp(top, bottom, ty)


@wp.func
def lattice(ix: int, iy: int, salt: int) -> float:
    """A repeatable random number in [0, 1) per integer lattice point."""
    h = wp.uint32(ix) * wp.uint32(73856093) + wp.uint32(iy) * wp.uint32(19349663)  # wraps, unsigned
    return wp.randf(wp.rand_init(salt, int(h)))


@wp.func
def value_noise(p: wp.vec2, salt: int) -> float:
    """Smooth noise in [0, 1): bilinear blend of lattice values with a smoothstep fade."""
    fx = wp.floor(p[0])
    fy = wp.floor(p[1])
    ix = int(fx)
    iy = int(fy)
    tx = p[0] - fx
    ty = p[1] - fy
    tx = tx * tx * (3.0 - 2.0 * tx)
    ty = ty * ty * (3.0 - 2.0 * ty)
    a = wp.lerp(lattice(ix, iy, salt), lattice(ix + 1, iy, salt), tx)
    b = wp.lerp(lattice(ix, iy + 1, salt), lattice(ix + 1, iy + 1, salt), tx)
    return wp.lerp(a, b, ty)


@wp.func
def stain(uv: wp.vec2, scale: float, salt: int, amount: float) -> float:
    """How much water damage covers this point (0..1), blotchy at ``scale`` metres."""
    n = 0.65 * value_noise(uv / scale, salt) + 0.35 * value_noise(uv / (0.3 * scale), salt + 1)
    return amount * wp.smoothstep(0.58, 0.78, n)


@wp.func
def wallpaper(albedo: wp.vec3, uv: wp.vec2, salt: int, wear: float) -> Surface:
    """Vertical two-tone stripes with a faded damask diamond in the wide band, stained and yellowed."""
    period = 0.14
    s = uv[0] / period - wp.floor(uv[0] / period)
    tone = wp.where(s < 0.62, 1.0, 0.9)
    tone = tone * wp.where(wp.abs(s - 0.62) < 0.025 or s < 0.025, 0.82, 1.0)
    motif = wp.cos(TAU * uv[0] / period) * wp.cos(TAU * uv[1] / (1.6 * period))
    tone = tone * (1.0 - 0.07 * wp.smoothstep(0.45, 0.75, wp.abs(motif)) * wp.where(s < 0.62, 1.0, 0.0))
    yellow = 0.9 + 0.2 * value_noise(uv * 0.8, salt + 7)
    damp = stain(uv, 0.9, salt, wear) * wp.max(0.0, 1.0 - uv[1] / 1.4)
    out = Surface()
    out.albedo = wp.cw_mul(albedo * tone * yellow, wp.lerp(wp.vec3(1.0), STAIN, damp))
    out.roughness = 0.85
    out.emission_scale = 0.0
    return out


@wp.func
def carpet(albedo: wp.vec3, uv: wp.vec2, roughness: float, salt: int, wear: float) -> Surface:
    """Matted fibres (per-centimetre speckle), tufts, and darker damp patches with a wet sheen."""
    fibre = 0.82 + 0.28 * lattice(int(wp.floor(uv[0] * 120.0)), int(wp.floor(uv[1] * 120.0)), salt)
    tuft = 0.9 + 0.2 * value_noise(uv * 9.0, salt + 3)
    damp = stain(uv, 1.4, salt + 11, 0.3 + 0.7 * wear)
    out = Surface()
    out.albedo = albedo * (fibre * tuft * (1.0 - 0.45 * damp))
    out.roughness = wp.lerp(roughness, 0.3, damp)
    out.emission_scale = 0.0
    return out


@wp.func
def ceiling_tile(albedo: wp.vec3, uv: wp.vec2, salt: int, wear: float) -> Surface:
    """A 0.6 m drop-ceiling grid: pitted fibreboard tiles between painted T-bars, some tiles stained."""
    size = 0.6
    cell = uv / size
    fx = cell[0] - wp.floor(cell[0])
    fy = cell[1] - wp.floor(cell[1])
    edge = wp.min(wp.min(fx, 1.0 - fx), wp.min(fy, 1.0 - fy)) * size
    out = Surface()
    out.roughness = 0.9
    out.emission_scale = 0.0
    if edge < 0.012:
        out.albedo = TBAR
        out.roughness = 0.5
        return out
    tile_x = int(wp.floor(cell[0]))
    tile_y = int(wp.floor(cell[1]))
    pit = 0.9 + 0.12 * lattice(int(wp.floor(uv[0] * 200.0)), int(wp.floor(uv[1] * 200.0)), salt)
    bevel = wp.lerp(0.8, 1.0, wp.smoothstep(0.012, 0.03, edge))
    damp = 0.0
    if lattice(tile_x, tile_y, salt + 5) < 0.2 * wear:
        d = wp.length(wp.vec2(fx - 0.5, fy - 0.5)) + 0.15 * value_noise(uv * 8.0, salt + 6)
        damp = wp.smoothstep(0.5, 0.2, d) * 0.8 + wp.smoothstep(0.04, 0.0, wp.abs(d - 0.4)) * 0.6
    out.albedo = wp.cw_mul(albedo * (pit * bevel), wp.lerp(wp.vec3(1.0), STAIN, wp.min(damp, 1.0)))
    return out


@wp.func
def light_panel(albedo: wp.vec3, uv: wp.vec2) -> Surface:
    """A prismatic diffuser: faint 2 cm grid over the tube glow."""
    g = wp.abs(wp.sin(TAU * uv[0] / 0.02) * wp.sin(TAU * uv[1] / 0.02))
    out = Surface()
    out.albedo = albedo
    out.roughness = 0.4
    out.emission_scale = 0.92 + 0.08 * g
    return out


@wp.func
def surface_coords(p: wp.vec3, n: wp.vec3) -> wp.vec2:
    """Planar world coordinates on the plane the normal is closest to; v is height on walls."""
    a = wp.abs(n)
    if a[1] >= a[0] and a[1] >= a[2]:
        return wp.vec2(p[0], p[2])
    if a[0] >= a[2]:
        return wp.vec2(p[2], p[1])
    return wp.vec2(p[0], p[1])


@wp.func
def surface(
    pattern: int,
    albedo: wp.vec3,
    roughness: float,
    p: wp.vec3,
    n: wp.vec3,
    look: wp.vec4i,
    salt: int,
    wear: float,
) -> Surface:
    """The material at world point ``p``.

    ``look`` = (wallpaper, carpet, ceiling, wear) variants of the instance: 0 is the plain variant and
    each step up adds damage to that surface. Pattern scales never vary per instance (that would show
    seams between neighbouring pieces); only how much damage shows does.
    """
    uv = surface_coords(p, n)
    base = 0.4 + 0.15 * float(wp.min(look[3], 4))
    if pattern == WALLPAPER:
        return wallpaper(albedo, uv, salt, wear * (base + 0.3 * float(wp.min(look[0], 3))))
    if pattern == CARPET:
        return carpet(albedo, uv, roughness, salt, wear * (base + 0.3 * float(wp.min(look[1], 3))))
    if pattern == CEILING_TILE:
        return ceiling_tile(albedo, uv, salt, wear * (base + 0.3 * float(wp.min(look[2], 3))))
    if pattern == LIGHT_PANEL:
        return light_panel(albedo, uv)
    out = Surface()
    out.albedo = albedo
    if pattern == TRIM:
        out.albedo = albedo * (0.85 + 0.15 * value_noise(uv * 6.0, salt))
    out.roughness = roughness
    out.emission_scale = 1.0
    return out
