"""The audio node's cost per frame at 48 kHz, on the products of a real walk (every panel of the
loaded neighbourhood, flickering ones included). Thread CPU time is given beside wall time: on a
shared machine it is the figure other load does not inflate."""

from __future__ import annotations

import time

import numpy as np

from backrooms.audio.node import AudioNode
from backrooms.bench.core import Measurement
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RenderProduct
from backrooms.params import ParamStore
from backrooms.render.node import RenderNode

AREA = "audio"


def run(quick: bool, device: str = "auto") -> list[Measurement]:
    if device == "cuda":
        return []  # CPU-only measurements
    frames = 24 if quick else 96
    results = []
    for fps in (24.0, 30.0):
        context = GraphContext(seed=0, width=32, height=24, fps=fps, device="cpu")
        render, audio = RenderNode(context), AudioNode(context)
        params = ParamStore().snapshot()
        metas = []
        for frame in range(frames):
            product = RenderProduct(frame, 32, 24, "cpu")
            render.process(product, params)
            metas.append(product.meta)
        audio.samples(0, metas[0], params)  # warm the filter designs
        wall, cpu = [], []
        for frame, meta in enumerate(metas):
            w0, c0 = time.perf_counter(), time.thread_time()
            audio.samples(frame, meta, params)
            wall.append(time.perf_counter() - w0)
            cpu.append(time.thread_time() - c0)
        panels = len(metas[-1]["lights"]["key"])
        note = f"median of {frames} frames, {panels} panels loaded; aim < 2 ms"
        results += [
            Measurement(
                AREA, f"audio node per frame at {fps:g} fps (wall)", 1000 * float(np.median(wall)), "ms", note
            ),
            Measurement(
                AREA, f"audio node per frame at {fps:g} fps (thread CPU)", 1000 * float(np.median(cpu)), "ms"
            ),
        ]
    return results
