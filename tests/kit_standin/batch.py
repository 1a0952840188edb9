"""Run exts/backrooms/kit/batch.py as Kit would, against the stand-in (NOT Omniverse)."""

import runpy
import sys
from pathlib import Path

import numpy as np

import kit_standin

BATCH = Path(__file__).resolve().parents[2] / "exts" / "backrooms" / "kit" / "batch.py"
W, H = 64, 48


def start_batch(monkeypatch, tmp_path, version="current", settings=None):
    """Kit runs the script; it hands its render coroutine to Kit's loop."""
    rec = kit_standin.install(monkeypatch, settings, version=version)
    from backrooms.kit import hallway, writer

    writer.register()  # the enabled extension has done these before Kit runs the script
    hallway.register()
    argv = [str(BATCH), "--frames", "3", "--start", "10", "--seed", "7", "--out", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", [*argv, "--size", f"{W}x{H}"])
    runpy.run_path(str(BATCH), run_name="__main__")
    rec.annotator_data["LdrColor"] = np.full((H, W, 4), 90, np.uint8)
    return rec


def run_batch(monkeypatch, tmp_path, version="current"):
    rec = start_batch(monkeypatch, tmp_path, version)
    kit_standin.run_pending(rec)
    return rec
