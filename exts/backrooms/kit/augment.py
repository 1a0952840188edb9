"""The decay pass as a Replicator augmentation on LdrColor, and an annotator that applies it."""

from __future__ import annotations

import omni.replicator.core as rep

from backrooms.kit.annotators import annotator
from backrooms.kit.live import decay_augmentation

AUGMENTATION = "backrooms_decay"
ANNOTATOR = "backrooms_vhs"


def register(seed: int, device: str) -> None:
    """Register ``backrooms_decay`` and the ``backrooms_vhs`` annotator (LdrColor -> decay).

    The augmentation is a Python function rather than one kernel because the decay pass is a chain
    of Warp kernels owned by ``DecayNode``; it launches them on the annotator's own device.
    """
    augmentation = rep.annotators.Augmentation.from_function(decay_augmentation, seed=seed)
    rep.annotators.register_augmentation(AUGMENTATION, augmentation)
    source = annotator("LdrColor", device)
    # augment(), not augment_compose(): one augmentation, and augment() exists since Replicator 1.10.
    rep.annotators.register(
        name=ANNOTATOR,
        annotator=rep.annotators.augment(source_annotator=source, augmentation=augmentation),
    )


def unregister() -> None:
    rep.AnnotatorRegistry.unregister_annotator(ANNOTATOR)
