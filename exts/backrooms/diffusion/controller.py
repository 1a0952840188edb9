"""Motion-aware noise strength (after StreamDiffusionV2's controller, driven by exact camera motion).

Fast camera motion means more disoccluded and resampled pixels; lowering the noise then keeps the
frame close to its (trustworthy) render instead of re-inventing half of it every frame. The value
is smoothed over frames, so it is temporal state and is reset with the rest of the node's state.
"""

from __future__ import annotations

from dataclasses import dataclass

# On-screen motion (fraction of the diagonal per frame) at which the controller fully engages.
FULL_SPEED = 0.02


@dataclass
class NoiseController:
    """``update(strength, speed) -> effective strength``: lower when the camera moves fast."""

    response: float = 0.5
    smoothing: float = 0.8
    _current: float | None = None

    def update(self, strength: float, speed: float) -> float:
        amount = min(max(speed / FULL_SPEED, 0.0), 1.0)
        target = strength * (1.0 - self.response * amount)
        if self._current is None:
            self._current = target
        else:
            self._current = self.smoothing * self._current + (1.0 - self.smoothing) * target
        return self._current

    def reset(self) -> None:
        self._current = None
