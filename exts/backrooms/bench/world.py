"""World: layout speed, USD authoring/open time, repetition, and memory over a long walk."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import psutil
from pxr import Usd

from backrooms.bench.core import Measurement, best_of
from backrooms.params import ParamStore
from backrooms.world import World
from backrooms.world.footage import operator_stats
from backrooms.world.layout import LayoutSpec, generate_block, generate_region
from backrooms.world.repetition import cell_tokens, expected_repeats, repeated_windows
from backrooms.world.stage import Region, write_stage

AREA = "world"


def _layout(quick: bool) -> list[Measurement]:
    spec = LayoutSpec.from_params(1, ParamStore().snapshot())
    chunks = 16 if quick else 63
    seconds = best_of(lambda: generate_block(spec, 0, 0, chunks, chunks), 1 if quick else 2)
    cells = (chunks * spec.chunk_size) ** 2
    one = best_of(lambda: generate_block(spec, 5, 9, 6, 10), 5)
    return [
        Measurement(AREA, f"layout cells generated ({cells:,} cells, one block)", cells / seconds, "cells/s"),
        Measurement(AREA, "one 16x16 chunk generated alone", one * 1000, "ms"),
    ]


def _layout_step(quick: bool) -> list[Measurement]:
    """A layout knob stepped live: the world's share of the frame it lands on (a new layout, the
    walk planned again up to that frame, the neighbourhood loaded; the renderer's share apart)."""
    store = ParamStore()
    world = World(1, store.snapshot())
    frame = 2000
    world.view(world.camera(frame, 24.0).position)
    times = []
    for variation in range(1, 4 if quick else 12):
        store.update({"world.variation": variation})
        began = time.perf_counter()
        world.set_params(store.snapshot(), time=frame / 24.0)
        world.view(world.cameras(frame, 24.0)[1].position)
        times.append(time.perf_counter() - began)
        frame += 1
    note = "world.variation stepped at 83 s, median of the steps; 16-cell chunks at load radius 1"
    return [
        Measurement(
            AREA, "a layout knob stepped live: the world's share", statistics.median(times) * 1000, "ms", note
        )
    ]


def _stage() -> list[Measurement]:
    world = World(1)
    region = Region(0, 0, 100, 100)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.usdc"
        began = time.perf_counter()
        report = write_stage(world, region, out, frames=240)
        authored = time.perf_counter() - began
        began = time.perf_counter()
        stage = Usd.Stage.Open(str(out))
        opened = time.perf_counter() - began
        prototypes = len(stage.GetPrototypes())
    note = f"{report.instances:,} instances, {report.chunks} chunk payloads, 240 camera frames"
    return [
        Measurement(AREA, "author a 10,000-cell stage (.usdc)", authored, "s", note),
        Measurement(AREA, "open a 10,000-cell stage, all payloads loaded", opened, "s"),
        Measurement(
            AREA,
            "USD prototypes shared by those instances",
            prototypes,
            "prototypes",
            "prototype file x variant selections in use",
        ),
    ]


def _repetition(quick: bool) -> list[Measurement]:
    world = World(1)
    side = 300 if quick else 1000
    tokens = cell_tokens(generate_region(world.spec, 0, 0, side, side), world.table)
    return [
        Measurement(
            AREA,
            f"repeated 6x6 windows in {side}x{side} cells",
            repeated_windows(tokens),
            "windows",
            f"chance for independent cells: {expected_repeats(tokens):.1e}",
        ),
        Measurement(
            AREA,
            f"repeated 3x3 windows in {side}x{side} cells",
            repeated_windows(tokens, 3),
            "windows",
            f"chance for independent cells: {expected_repeats(tokens, 3):.0f}",
        ),
    ]


def _walk(quick: bool) -> list[Measurement]:
    """Walk the autopilot cell by cell with a scene view every 8 cells, sampling the process RSS."""
    cells = 10_000 if quick else 100_000
    world = World(1)
    process = psutil.Process()
    began = time.perf_counter()
    peak = tenth = 0
    for i in range(cells):
        x, z = world.autopilot.path_cell(i)
        if i % 8 == 0:
            world.view(((x + 0.5) * world.cell_size, 1.6, (z + 0.5) * world.cell_size))
        if i % 500 == 0:
            peak = max(peak, process.memory_info().rss)
        if i == cells // 10:
            tenth = process.memory_info().rss
    seconds = time.perf_counter() - began
    end = process.memory_info().rss
    mib = 1 / 2**20
    return [
        Measurement(
            AREA,
            f"walk {cells:,} cells with scene views",
            cells / seconds,
            "cells/s",
            "autopilot decisions, chunk generation, placement",
        ),
        Measurement(
            AREA,
            f"peak RSS over a {cells:,}-cell walk",
            max(peak, end) * mib,
            "MiB",
            "whole process, library and interpreter included",
        ),
        Measurement(
            AREA,
            "RSS growth from 10% to 100% of the walk",
            (end - tenth) * mib,
            "MiB",
            "bounded chunk caches; the path table keeps ~56 B per cell for seeking",
        ),
    ]


def _operator() -> list[Measurement]:
    """How hand-held the default 30 s walk looks (no rendering): seeds 0-2, worst of the three."""
    stats = [operator_stats(World(seed), seconds=30.0, fps=24.0) for seed in range(3)]
    rows = (
        ("speed_cv", "camera speed coefficient of variation, 30 s", "", "aim >= 0.3"),
        ("longest_stop_s", "longest stop in 30 s", "s", "aim >= 0.5"),
        ("widest_look_deg", "widest look away from the path in 30 s", "deg", "aim >= 30"),
        ("tremor_rms_deg", "camera rotation in 2-8 Hz, 30 s", "deg RMS", "hand tremor (and whip-pans)"),
    )
    return [
        Measurement(AREA, f"{label} (least of seeds 0-2)", min(s[key] for s in stats), unit, note)
        for key, label, unit, note in rows
    ]


def run(quick: bool, device: str = "auto") -> list[Measurement]:
    if device == "cuda":
        return []  # CPU-only measurements
    return _layout(quick) + _layout_step(quick) + _stage() + _repetition(quick) + _walk(quick) + _operator()
