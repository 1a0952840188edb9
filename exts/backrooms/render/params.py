"""The renderer's knobs (``/backrooms/render/<name>``), declared once here and read from snapshots."""

from __future__ import annotations

from backrooms.params import declare

NODE = "render"

declare(
    NODE,
    "spp",
    1,
    "shading samples per pixel (light and occlusion rays); 1 is noisy, as VHS likes",
    min=1,
    max=64,
)
declare(
    NODE,
    "scale",
    0.75,
    "internal resolution traced, per side (0.5: a quarter of the rays); the frame is filled up to full size",
    min=0.25,
    max=1.0,
)
declare(
    NODE, "fov", 0.0, "vertical field of view; 0 keeps the world camera's", min=0.0, max=150.0, unit="deg"
)
declare(NODE, "exposure", 0.0, "exposure compensation before tone mapping", min=-8.0, max=8.0, unit="EV")
declare(NODE, "distortion", 0.04, "radial lens distortion k1 (0 = pinhole, > 0 barrel)", min=0.0, max=0.5)
declare(
    NODE, "radiance", 5.0, "radiance of a healthy ceiling panel (LightSet.intensity 1)", min=0.0, max=100.0
)
declare(NODE, "shadow_rays", 2, "nearest lights per pixel that get a shadow ray", min=0, max=4)
declare(
    NODE,
    "light_radius",
    7.0,
    "lights farther than this from a surface are ignored",
    min=1.0,
    max=50.0,
    unit="m",
)
declare(NODE, "flicker", 0.6, "how deep flickering panels dip", min=0.0, max=1.0)
declare(NODE, "stutter", 0.15, "share of flickering panels stuttering at any moment", min=0.0, max=1.0)
declare(
    NODE,
    "blackout",
    0.0,
    "extra share of panels switched off at render time (the world decides which are broken)",
    min=0.0,
    max=1.0,
)
declare(NODE, "hum", 0.02, "mains shimmer: per-frame brightness wobble of all panels", min=0.0, max=0.5)
declare(
    NODE,
    "ambient",
    0.08,
    "light bounced around by the yellow walls, per unit of nearby panel light",
    min=0.0,
    max=1.0,
)
declare(NODE, "ao", 0.6, "ambient occlusion strength", min=0.0, max=1.0)
declare(NODE, "ao_radius", 0.6, "ambient occlusion ray length", min=0.05, max=5.0, unit="m")
declare(NODE, "haze", 0.035, "distance haze density", min=0.0, max=1.0, unit="1/m")
declare(NODE, "wear", 0.5, "stains, damp patches and discoloured tiles", min=0.0, max=1.0)
