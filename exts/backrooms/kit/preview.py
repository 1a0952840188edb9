"""The live preview's render product: the viewport camera, read through GPU annotators."""

from __future__ import annotations

from typing import Any

import omni.replicator.core as rep

from backrooms.kit.annotators import annotator
from backrooms.kit.chain import ANNOTATORS, annotator_aovs

NAME = "backrooms_preview"


class PreviewSource:
    """One render product plus one zero-copy annotator per AOV; ``release`` gives all of it back."""

    def __init__(self, camera: str, width: int, height: int, device: str) -> None:
        self.render_product = rep.create.render_product(camera, (width, height), name=NAME)
        self.annotators = {}
        for name in ANNOTATORS:
            self.annotators[name] = annotator(name, device, do_array_copy=False)
            self.annotators[name].attach(self.render_product)

    def read(self) -> dict[str, Any] | None:
        """This frame's AOVs (empty ones left out), or None before the first rendered frame."""
        aovs = annotator_aovs({name: a.get_data() for name, a in self.annotators.items()})
        aovs = {name: data for name, data in aovs.items() if data.size > 0}
        return aovs if "rgb" in aovs else None

    def release(self) -> None:
        for attached in self.annotators.values():
            attached.detach()
        self.annotators = {}
        self.render_product.destroy()
