"""Camera operator styles: what ``camera.operator`` means, as amounts the route and the filming read.

A style is a person, not a knob: the continuous knobs (``camera.speed``, ``shake``, ``bob``,
``curiosity``) scale these amounts, so one style played hard still moves like that person.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    pace: float  # x camera.speed
    vary: float  # speed spread between path pieces (+- fraction of the pace)
    stops: float  # x camera.stop_rate and camera.look_rate
    hesitate: float  # chance to pause at a junction or doorway
    wander: float  # metres off the corridor's centre line, at most
    stride: float  # metres per step (the gait's phase follows the distance walked)
    bob: float  # metres the eye drops at each footfall at full pace (x camera.bob)
    sway: float  # metres side to side over a stride (x camera.bob)
    roll: float  # degrees of roll over a stride (x camera.bob)
    tremor: float  # degrees of 2-8 Hz hand tremor (x camera.shake)
    drift: float  # degrees of slow aim drift and breathing (x camera.shake)
    whip: float  # chance per path piece of a quick whip-pan
    glance: float  # chance per path piece of a glance (up at a failing panel, into an opening)


STYLES = {
    # a fluid head on a dolly: steady pace on the centre line, slow pans, no hands
    "tripod": Style(0.8, 0.0, 1.0, 0.0, 0.0, 0.75, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5),
    # a stabilised rig: floats, breathes, a faint step
    "steadicam": Style(0.9, 0.12, 1.0, 0.3, 0.2, 0.75, 0.005, 0.006, 0.2, 0.04, 0.5, 0.0, 0.8),
    # a person walking with a camcorder in one hand
    "walking": Style(1.0, 0.35, 1.0, 0.6, 0.3, 0.74, 0.022, 0.016, 0.7, 0.25, 1.0, 0.04, 1.0),
    # someone who does not want to be there: jittery, stops, looks back
    "nervous": Style(1.05, 0.4, 1.6, 0.9, 0.35, 0.66, 0.02, 0.02, 0.9, 0.5, 1.6, 0.15, 1.5),
    # running, the camera swinging with the arms
    "running": Style(2.3, 0.15, 0.3, 0.2, 0.25, 1.35, 0.05, 0.035, 1.8, 0.6, 1.5, 0.05, 0.3),
}
