"""Replicator annotators on the device the frames should stay on, across Replicator versions."""

from __future__ import annotations

from typing import Any

import omni.replicator.core as rep


def annotator(name: str, device: str, do_array_copy: bool = True) -> Any:
    """``get_annotator`` with ``device=`` / ``do_array_copy=``; releases without those two keywords
    return CPU copies, which the chain takes as they are (it reads the device off each frame)."""
    try:
        return rep.AnnotatorRegistry.get_annotator(name, device=device, do_array_copy=do_array_copy)
    except TypeError:
        return rep.AnnotatorRegistry.get_annotator(name)
