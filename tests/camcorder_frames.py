"""Synthetic frames for the camcorder tests, and a way to film them with the real node."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from backrooms.camcorder.exposure import Automatics
from backrooms.camcorder.node import CamcorderNode
from backrooms.graph.node import GraphContext
from backrooms.graph.product import DEPTH, MOTION_VECTORS, RGB, RenderProduct
from backrooms.params import ParamStore

W, H = 160, 120

# Every effect off: the camcorder then gives the render's bytes back.
OFF = {
    "camcorder.exposure_mode": "manual",
    "camcorder.exposure": 0.0,
    "camcorder.white_balance": 0.0,
    "camcorder.wb_drift": 0.0,
    "camcorder.vignette": 0.0,
    "camcorder.aberration": 0.0,
    "camcorder.bloom": 0.0,
    "camcorder.smear": 0.0,
    "camcorder.gain_noise": 0.0,
    "camcorder.shutter": 0.0,
    "camcorder.blur": 0.0,
    "camcorder.interlace": False,
}


def flat(level: int, w: int = W, h: int = H) -> np.ndarray:
    rgb = np.full((h, w, 4), level, np.uint8)
    rgb[..., 3] = 255
    return rgb


def stripes(period: int, w: int = W, h: int = H) -> np.ndarray:
    """Vertical grey stripes (dark/light), ``period`` pixels wide."""
    rgb = flat(60, w, h)
    rgb[:, (np.arange(w) // (period // 2)) % 2 == 1, :3] = 180
    return rgb


def film(
    rgbs: Iterable[np.ndarray],
    values: Mapping[str, Any],
    depth: np.ndarray | float = 3.0,
    motion: tuple[float, float] = (0.0, 0.0),
    fps: float = 24.0,
    seed: int = 0,
    first: int = 0,
) -> tuple[list[np.ndarray], list[Automatics]]:
    """Film frames with a fresh ``CamcorderNode``; returns the RGB bytes and the automatics' settings."""
    rgbs = list(rgbs)
    h, w = rgbs[0].shape[:2]
    node = CamcorderNode(GraphContext(seed, w, h, fps, "cpu"))
    params = ParamStore(values=dict(values)).snapshot()
    depth_plane = np.broadcast_to(np.asarray(depth, np.float32), (h, w))
    mv = np.zeros((h, w, 4), np.float32)
    mv[..., 0], mv[..., 1] = motion
    out, auto = [], []
    for i, rgb in enumerate(rgbs):
        product = RenderProduct(first + i, w, h, "cpu")
        product.load(RGB, rgb)
        product.load(DEPTH, depth_plane)
        product.load(MOTION_VECTORS, mv)
        node.process(product, params)
        out.append(product[RGB].numpy()[..., :3].copy())
        auto.append(product.meta["camcorder"])
    return out, auto


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
