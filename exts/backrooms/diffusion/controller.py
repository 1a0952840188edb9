"""Motion-aware noise strength (after StreamDiffusionV2's controller, driven by exact camera motion).

Fast camera motion means more disoccluded and resampled pixels; lowering the noise then keeps the
frame close to its (trustworthy) render instead of re-inventing much of it every frame.
StreamDiffusionV2 smooths its estimate over frames because it guesses motion from pixel changes; the
renderer's motion vectors are exact and smooth already, so this controller is a pure function of
the current frame, which keeps it out of the node's temporal state.
"""

from __future__ import annotations

# On-screen motion (fraction of the diagonal per frame) at which the controller fully engages.
FULL_SPEED = 0.02


def motion_strength(strength: float, speed: float, response: float) -> float:
    """``strength`` lowered by up to ``response`` (a fraction) as ``speed`` approaches FULL_SPEED."""
    amount = min(max(speed / FULL_SPEED, 0.0), 1.0)
    return strength * (1.0 - response * amount)
