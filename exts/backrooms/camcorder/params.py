"""The camcorder's knobs (``/backrooms/camcorder/<name>``), declared once here and read from snapshots.

The lens's barrel distortion is not here: the renderer bends its rays (``render.distortion``), so
depth, motion vectors and colour already agree; warping the picture again would distort it twice.
"""

from __future__ import annotations

from backrooms.params import declare

NODE = "camcorder"

declare(
    NODE,
    "exposure_mode",
    "auto",
    "auto: the exposure servo meters the frame; manual: a fixed exposure",
    choices=("auto", "manual"),
)
declare(
    NODE,
    "exposure",
    0.0,
    "auto: compensation on the metering target; manual: the exposure itself",
    min=-4.0,
    max=4.0,
    unit="EV",
)
declare(
    NODE, "target", 0.14, "auto-exposure target: the frame's metered scene-linear level", min=0.02, max=1.0
)
declare(
    NODE, "ae_lag", 0.5, "how long the exposure servo takes to reach a new level", min=0.1, max=1.5, unit="s"
)
declare(
    NODE, "ae_hunt", 0.3, "overshoot of the exposure servo (0 = none, 0.5 = hunts wildly)", min=0.0, max=0.6
)
declare(
    NODE,
    "gain_limit",
    3.0,
    "highest exposure the servo may reach; above 0 EV it is electronic gain, which adds noise",
    min=0.0,
    max=6.0,
    unit="EV",
)
declare(
    NODE,
    "white_balance",
    0.2,
    "how far auto white balance pulls the frame's average colour toward grey (0 = off)",
    min=0.0,
    max=1.0,
)
declare(
    NODE,
    "wb_drift",
    0.5,
    "slow drift of the balance between the fluorescent green-yellow and neutral",
    min=0.0,
    max=2.0,
)
declare(
    NODE,
    "focus",
    0.0,
    "focus distance; 0 = autofocus on the centre of the frame",
    min=0.0,
    max=50.0,
    unit="m",
)
declare(NODE, "af_hunt", 0.3, "how often autofocus loses the subject and hunts (per ~10 s)", min=0.0, max=2.0)
declare(NODE, "blur", 1.0, "depth-of-field blur (aperture: 0 = everything sharp)", min=0.0, max=4.0)
declare(
    NODE,
    "aberration",
    0.4,
    "lateral chromatic aberration: red/blue size difference, growing to the frame's edges",
    min=0.0,
    max=3.0,
    unit="%",
)
declare(NODE, "vignette", 0.25, "lens light falloff in the corners (0 = none)", min=0.0, max=1.0)
declare(NODE, "bloom", 1.0, "glow around highlights (0 = off)", min=0.0, max=4.0)
declare(NODE, "smear", 1.0, "CCD vertical smear streaks through bright lights (0 = off)", min=0.0, max=4.0)
declare(
    NODE, "gain_noise", 1.0, "sensor noise, amplified with the gain in dark rooms (0 = off)", min=0.0, max=4.0
)
declare(
    NODE,
    "shutter",
    1.0 / 60.0,
    "exposure time of a field: motion blur along the motion vectors (0 = none)",
    min=0.0,
    max=0.05,
    unit="s",
)
declare(NODE, "interlace", True, "odd lines are a second field 1/60 s later (fast pans comb)")
