"""What the Kit writer does with each frame, Kit-free: post-render nodes, then PNG frames and an MP4.

One folder per render product (``OUT/<render product>/frames/frame_000000.png`` and ``clip.mp4``),
laid out as ``backrooms render`` lays out its output; each clip is encoded along as its frames
arrive (``EncodeAlong``), so the final frame does not start a second pass over every PNG.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import warp as wp

from backrooms.batch import VIDEO_NAME, prepare_output
from backrooms.graph.executor import Executor
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RGB
from backrooms.io.manifest import frame_file
from backrooms.io.mp4 import EncodeAlong
from backrooms.io.png import write_png
from backrooms.params.store import Snapshot


def folder_name(render_product: str) -> str:
    """A render product path such as ``/Render/RP_cam`` as one folder name."""
    return render_product.strip("/").replace("/", "_") or "render_product"


class ClipOutput:
    """Frames ``start, start+1, ...`` of each render product, processed and written as they arrive."""

    def __init__(
        self,
        out: Path,
        kinds: tuple[str, ...],
        seed: int,
        fps: float,
        start: int,
        params: Callable[[], Snapshot],
    ) -> None:
        self.out = Path(out)
        self.kinds = kinds
        self.seed = seed
        self.fps = fps
        self.start = start
        self.params = params
        self._chains: dict[str, Executor] = {}
        self._frames: dict[str, int] = {}  # frames written per render product
        self._clips: dict[str, EncodeAlong] = {}

    def write(self, render_product: str, aovs: Mapping[str, Any]) -> Path:
        """Process one frame of one render product; returns the PNG written."""
        folder = self.out / folder_name(render_product)
        chain = self._chains.get(render_product)
        if chain is None:
            color = aovs[RGB]
            device = str(color.device) if isinstance(color, wp.array) else "cpu"
            height, width = color.shape[:2]
            chain = self._chains[render_product] = Executor(
                self.kinds,
                GraphContext(self.seed, width, height, self.fps, device),
                lambda _frame: self.params(),
            )
            prepare_output(folder)
        if render_product not in self._clips:
            self._clips[render_product] = EncodeAlong(folder / VIDEO_NAME, self.fps)
        frame = self.start + self._frames.get(render_product, 0)
        rgb = np.array(chain.render(frame, aovs)[RGB].numpy())  # the chain reuses its buffers
        path = folder / frame_file(frame)
        write_png(path, rgb)
        self._clips[render_product].add(rgb)
        self._frames[render_product] = self._frames.get(render_product, 0) + 1
        return path

    def finish(self) -> list[Path]:
        """Put each render product's ``clip.mp4`` in place; returns the videos written."""
        videos = []
        for clip in self._clips.values():
            clip.finish()
            videos.append(clip.path)
        self._clips.clear()
        return videos
