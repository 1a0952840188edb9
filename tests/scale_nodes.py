"""Helpers of the scale tests (not a test module): a tiny temporal node, a tiny style.

``TapeNode`` folds every frame since its last reset (every ``PERIOD`` frames) into its state, so a
shard that skipped the executor's warm-up would write different bytes. Optional behaviours come in
through the params snapshot (``test.*`` keys, given with ``FixedParams``) or, for a CLI subprocess,
the ``TAPE_SLEEP`` environment variable.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from backrooms.errors import UserError
from backrooms.graph.catalog import CATALOG
from backrooms.graph.node import Node
from backrooms.graph.product import RGB
from backrooms.graph.recipe import Recipe
from backrooms.seeds import numpy_rng

PERIOD = 8
# The default catalogue with the tape node as `render`; recipes carry it to workers.
TAPE_CATALOG = CATALOG.with_nodes(render=f"{__name__}:TapeNode")
# `backrooms ...` in a subprocess, with the tape node as `render`
CLI = [
    sys.executable,
    "-c",
    "import sys, scale_nodes as t; from backrooms.cli import main; sys.exit(main(catalog=t.TAPE_CATALOG))",
]
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}


class TapeNode(Node):
    kind = "render"

    def __init__(self, context):
        super().__init__(context)
        self.state = np.zeros((context.height, context.width, 4), np.uint8)
        self.last: int | None = None
        self.sleep = float(os.environ.get("TAPE_SLEEP", "0"))

    def history(self, frame, params):
        return frame - frame % PERIOD

    def reset(self):
        self.last = None

    def process(self, product, params):
        frame = product.frame
        if frame % PERIOD == 0 or self.last != frame - 1:
            self.state[:] = 0
        noise = numpy_rng(self.context.seed, "tape", frame).integers(0, 256, self.state.shape, np.uint8)
        self.state = (self.state * np.uint8(3) + noise).astype(np.uint8)
        self.state[..., 3] = 255
        self.last = frame
        self.fail_once(frame, params)
        time.sleep(self.sleep)
        product.allocate(RGB).assign(self.state)

    def fail_once(self, frame, params):
        """With ``test.fail_at`` = frame, fail there on the first attempt only (a marker file remembers)."""
        if params.get("test.fail_at") != frame:
            return
        marker = Path(params["test.markers"]) / f"failed_{frame}"
        if marker.exists():
            return
        marker.write_text(str(os.getpid()))
        how = params["test.fail_how"]
        if how == "exit":
            os._exit(1)
        raise UserError("bad tape") if how == "user" else RuntimeError("tape snapped")


def tape_recipe(frames: int = 24, size: tuple[int, int] = (32, 24)) -> Recipe:
    return Recipe(
        source="test",
        nodes=("render",),
        width=size[0],
        height=size[1],
        frames=frames,
        seed=7,
        catalog=TAPE_CATALOG,
    )


def save_tiny_style(folder: Path) -> str:
    """A small random denoiser, so the real diffusion node runs in milliseconds per frame."""
    import torch

    from backrooms.diffusion.model import Denoiser, DenoiserConfig

    torch.manual_seed(0)
    return str(Denoiser(DenoiserConfig(widths=(8, 16), blocks=1)).save_pretrained(folder))
