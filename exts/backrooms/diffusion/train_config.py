"""Training knobs (the denoiser's and a LoRA's), kept free of torch so the CLI can show them without
importing it."""

from __future__ import annotations

import math
from dataclasses import dataclass

OBJECTIVES = ("flow", "x0")  # see ``train``
MEMORIES = ("plain", "node")  # how training carries the memory to the trained frame (``train._memory``)
CHOICES = {"objective": OBJECTIVES, "memory": MEMORIES}  # the knobs that take a word, and their words
SHARES = ("memory_trust", "reduced_share")  # the knobs that take a share from 0 to 1 (checked on creation)
POSITIVE = ("minutes", "lr")  # the knobs that take a finite number above 0 (checked on creation)
# the file in a command's --out a stopped run goes on from (``resume``); removed once the run is written
CHECKPOINT = "checkpoint.safetensors"
REDUCED_SCALES = (0.75, 0.5)  # render.scale values below 1 that training draws from and evaluation scores


class KnobError(ValueError):
    """A training knob outside its words or its range: ``name`` is the ``TrainConfig`` field, so the
    command can name its flag and ``train``'s callers the field."""

    def __init__(self, name: str, value: object, expected: str) -> None:
        super().__init__(f"{name} {value!r}: expected {expected}")
        self.name, self.value, self.expected = name, value, expected

    @property
    def flag_message(self) -> str:
        return f"--{self.name.replace('_', '-')} {self.value}: expected {self.expected}"


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 12000
    # wall-clock cap of the steps: a run stopped by it is logged as such (other weights). Twice the
    # hour the shipped recipe aims at: on a slow day of the Xeon its 12000 steps took 58.7 minutes
    minutes: float = 120.0
    batch: int = 8
    crop: int = 96
    lr: float = 1e-3
    memory_dropout: float = 0.5  # share of samples trained without the warped previous output
    memory_frames: int = 5  # frames the memory is carried through before the trained one (1: one pass old)
    memory: str = "node"  # "plain" (warped as is) or "node" (re-lit, clamped and trusted, as the node does)
    # the memory's trust while training ("node" memory); the shipped weights were trained at 0.85 and
    # the node runs them at ``diffusion.temporal_weight``, a little lower (where they score best)
    memory_trust: float = 0.85
    reduced_share: float = 0.0  # share of steps whose render was traced at one of REDUCED_SCALES
    vhs_weight: float = 0.5
    temporal_weight: float = 5.0
    ema: float = 0.995
    seed: int = 0
    objective: str = "x0"  # "x0" (the shipped weights) or "flow" (rectified flow; see ``train``)
    # torch threads while training: a fixed count keeps the weights' bytes reproducible (two: the
    # portable arithmetic's MKL path takes as long on two as oneDNN on one, 38 minutes on the Xeon)
    threads: int = 2
    log_every: int = 25
    checkpoint_every: int = 200  # steps between the checkpoints a stopped run goes on from (about a minute)

    def __post_init__(self) -> None:
        for name, words in CHOICES.items():
            if getattr(self, name) not in words:
                raise KnobError(name, getattr(self, name), f"one of {words}")
        for name in SHARES:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise KnobError(name, getattr(self, name), "a share from 0 to 1")
        for name in POSITIVE:
            if not 0.0 < getattr(self, name) < math.inf:  # NaN fails both
                raise KnobError(name, getattr(self, name), "a number above 0")


@dataclass
class TuneConfig:
    """``backrooms tune``'s knobs (a LoRA on the user's diffusers checkpoint, ``tune.py``)."""

    steps: int = 500
    batch: int = 1
    crop: int = 512
    lr: float = 1e-4
    rank: int = 8
    strength: float = 0.5  # the node's strength the VHS term trains for
    vhs_weight: float = 1.0
    checkpoint_every: int = 100
    seed: int = 0

    def __post_init__(self) -> None:
        ranges = {  # NaN fails each
            "lr": (0.0 < self.lr < math.inf, "a number above 0"),
            "strength": (0.0 <= self.strength <= 1.0, "a number from 0 to 1"),
            "vhs_weight": (0.0 <= self.vhs_weight < math.inf, "a number from 0 up"),
        }
        for name, (fine, expected) in ranges.items():
            if not fine:
                raise KnobError(name, getattr(self, name), expected)
