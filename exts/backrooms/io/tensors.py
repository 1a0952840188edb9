"""Write tensors as safetensors, whole or not at all (weights, training clips, checkpoints)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors.torch import save

from backrooms.io.atomic import write_bytes


def safetensors_bytes(tensors: Mapping[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """The bytes ``safetensors.torch.save_file`` writes, of tensors on any device."""
    return save({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, metadata=metadata)


def write_safetensors(
    path: Path, tensors: Mapping[str, torch.Tensor], metadata: dict[str, str] | None = None
) -> None:
    """Through a temporary name: a full disk leaves the file that was there (or none), never a
    truncated one the next load would choke on."""
    write_bytes(Path(path), safetensors_bytes(tensors, metadata))
