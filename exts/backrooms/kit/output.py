"""What the Kit writer does with each frame, Kit-free: post-render nodes, then PNG frames and an MP4.

One folder per render product (``OUT/<render product>/frames/frame_000000.png`` and ``clip.mp4``),
laid out as ``backrooms render`` lays out its output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import warp as wp

from backrooms.batch import VIDEO_NAME, prepare_output
from backrooms.graph.executor import Executor
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RGB
from backrooms.io.manifest import frame_file
from backrooms.io.mp4 import write_mp4
from backrooms.io.png import read_png, write_png
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
        self._written: dict[str, list[Path]] = {}

    def write(self, render_product: str, aovs: Mapping[str, Any]) -> Path:
        """Process one frame of one render product; returns the PNG written."""
        rgb = aovs[RGB]
        chain = self._chains.get(render_product)
        if chain is None:
            device = str(rgb.device) if isinstance(rgb, wp.array) else "cpu"
            height, width = rgb.shape[:2]
            chain = self._chains[render_product] = Executor(
                self.kinds,
                GraphContext(self.seed, width, height, self.fps, device),
                lambda _frame: self.params(),
            )
            prepare_output(self.out / folder_name(render_product))
        written = self._written.setdefault(render_product, [])
        frame = self.start + len(written)
        product = chain.render(frame, aovs)
        path = self.out / folder_name(render_product) / frame_file(frame)
        write_png(path, product[RGB].numpy())
        written.append(path)
        return path

    def finish(self) -> list[Path]:
        """Encode each render product's frames as ``clip.mp4``; returns the videos written."""
        videos = []
        for render_product, frames in self._written.items():
            video = self.out / folder_name(render_product) / VIDEO_NAME
            write_mp4(video, (read_png(path) for path in frames), self.fps)
            videos.append(video)
        return videos
