"""``BackroomsWriter``: a Replicator writer that runs diffusion + decay on render products."""

from __future__ import annotations

from pathlib import Path

import omni.replicator.core as rep

from backrooms.graph.recipe import load_recipe
from backrooms.kit import live
from backrooms.kit.annotators import annotator
from backrooms.kit.chain import ANNOTATORS, annotator_aovs, post_render_kinds
from backrooms.kit.output import ClipOutput
from backrooms.params.store import ParamStore, Snapshot

WRITER = "BackroomsWriter"


class BackroomsWriter(rep.Writer):
    """PNG frames and an MP4 per render product, stylised and decayed by the recipe's nodes.

    Parameters come from the live session when the extension runs (panel and OSC play them),
    otherwise from the recipe. ``device="cuda"`` keeps annotator frames on the GPU.
    """

    def __init__(
        self,
        output_dir: str,
        recipe: str = "",
        seed: int = 0,
        start: int = 0,
        fps: float = 24.0,
        device: str = "cuda",
    ) -> None:
        loaded = load_recipe(recipe or None)
        self._store = ParamStore(values=loaded.params)
        self.annotators = [annotator(name, device) for name in ANNOTATORS]
        self.data_structure = "renderProduct"
        self._output = ClipOutput(Path(output_dir), post_render_kinds(loaded), seed, fps, start, self._params)

    def _params(self) -> Snapshot:
        session = live.current()
        return (session.store if session is not None else self._store).snapshot()

    def write(self, data: dict) -> None:
        # Replicator without `data_structure` sends the legacy layout: one render product's annotators
        # at the top level (the writer then supports one render product).
        for render_product, annotators in data.get("renderProducts", {"": data}).items():
            self._output.write(render_product, annotator_aovs(annotators))

    def on_final_frame(self) -> None:
        self._output.finish()


def register() -> None:
    rep.WriterRegistry.register(BackroomsWriter)


def unregister() -> None:
    rep.WriterRegistry.unregister(WRITER)
