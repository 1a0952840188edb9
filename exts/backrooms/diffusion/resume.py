"""Checkpoints a training goes on from (``backrooms train``, ``backrooms tune``): one safetensors
file holding the tensors and, in its metadata, a JSON state.

One file, written beside and renamed over the last, so a run killed while saving keeps the checkpoint
before; nothing in it is unpickled (the optimiser's moments are tensors named by parameter index, the
random generators' states byte tensors). With them a resumed run takes the same steps, to the byte,
as one that never stopped. :class:`DeferredInterrupt` lets Ctrl-C end a step before it stops the run,
so the checkpoint then written is a whole step's.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import torch
from safetensors import SafetensorError, safe_open

from backrooms.errors import UserError
from backrooms.io.tensors import write_safetensors

_STATE = "state"  # the metadata key of the JSON state
_OPTIMIZER = "optimizer."  # tensor names: optimizer.<parameter index>.<slot>


def save(path: Path, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
    """Write ``tensors`` and ``state`` (JSON-able) to ``path`` in one step (a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_safetensors(path, tensors, metadata={_STATE: json.dumps(state)})


def load(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors and state :func:`save` wrote; a file that is not one is refused in one line."""
    try:
        with safe_open(str(path), framework="pt") as f:
            state = json.loads((f.metadata() or {})[_STATE])
            names = f.keys()
            tensors = {k: f.get_tensor(k) for k in names}
    except (OSError, SafetensorError, KeyError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        message = f"{path}: not a checkpoint this command wrote ({reason}); delete it to start again"
        raise UserError(message) from None
    if not isinstance(state, dict):
        raise UserError(f"{path}: not a checkpoint this command wrote; delete it to start again")
    return tensors, state


def named(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors saved under ``prefix`` (``model.``, ``lora.``), by their names without it."""
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """The optimiser's per-parameter state (Adam's step and moments) as named tensors."""
    out = {}
    for index, slots in optimizer.state_dict()["state"].items():
        for slot, value in slots.items():
            out[f"{_OPTIMIZER}{index}.{slot}"] = value if torch.is_tensor(value) else torch.tensor(value)
    return out


def restore_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor]) -> None:
    """Put :func:`optimizer_tensors`' state back; the hyperparameters stay the live optimiser's (the
    same settings made it)."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in named(tensors, _OPTIMIZER).items():
        index, slot = name.split(".", 1)
        state.setdefault(int(index), {})[slot] = value
    optimizer.load_state_dict({"state": state, "param_groups": optimizer.state_dict()["param_groups"]})


def differences(saved: dict[str, Any], now: dict[str, Any]) -> str:
    """What differs between a checkpoint's settings and this run's, e.g. ``steps 12000 there, 600 here``
    (empty when they agree)."""
    differ = [k for k in sorted(set(saved) | set(now)) if saved.get(k) != now.get(k)]
    return ", ".join(f"{k} {saved.get(k)} there, {now.get(k)} here" for k in differ)


class DeferredInterrupt:
    """Inside, the first Ctrl-C (SIGINT) only sets ``asked``: the loop finishes its step, saves, and
    raises ``KeyboardInterrupt`` itself. A second Ctrl-C stops at once. Does nothing off the main
    thread (Python delivers signals there only)."""

    def __init__(self) -> None:
        self.asked = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._ask)
            self._installed = True
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)

    def _ask(self, signum: int, frame: FrameType | None) -> None:
        self.asked = True
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C: at once
