"""Live control: control latency in frames, and frame time / frame rate with and without an OSC flood.

The live loop renders the render + decay graph at a target rate it can hold (at most 24 fps). A
probe sends a real UDP message every ~0.25 s; the frame during which the server handled it and the
first frame that shows it give the latency in frames (the target is 1: frame N+1). The flood run
adds a separate process sending 10,000 messages/s to four knobs (what a DAW automating a few lanes
at audio-block rate does) and compares frame time p99 and the achieved frame rate with the quiet run.
"""

from __future__ import annotations

import itertools
import multiprocessing
import random
import socket
import threading
import time
from typing import Any

from backrooms.bench.core import Measurement

AREA = "live"
FLOOD_RATE = 10_000
FLOOD_ADDRESSES = (
    "/backrooms/decay/hue",
    "/backrooms/decay/saturation",
    "/backrooms/decay/vignette",
    "/backrooms/render/exposure",
)
PROBE_KEY = "decay.fields"
PROBE_VALUES = ("upper", "interleaved")


def _osc(address: str, tag: str, payload: bytes) -> bytes:
    def pad(raw: bytes) -> bytes:
        return raw + b"\x00" * (4 - len(raw) % 4)

    return pad(address.encode()) + pad(f",{tag}".encode()) + payload


def _flood(port: int, seconds: float, sent: Any) -> None:
    """Runs in its own process: ``FLOOD_RATE`` messages a second, paced in 2 ms slices."""
    import struct

    rng = random.Random(7)
    packets = [_osc(rng.choice(FLOOD_ADDRESSES), "f", struct.pack(">f", rng.random())) for _ in range(4096)]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    count = 0
    start = time.perf_counter()
    while (now := time.perf_counter()) - start < seconds:
        due = int((now - start) * FLOOD_RATE)
        while count < due:
            sock.sendto(packets[count % len(packets)], ("127.0.0.1", port))
            count += 1
        time.sleep(0.002)
    sent.value = count


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _play(render: Any, fps: float, seconds: float, flood: bool) -> dict[str, float]:
    from backrooms.control.session import LiveOptions, LiveSession
    from backrooms.params import REGISTRY

    options = LiveOptions(osc_port=0, osc_tcp_port=None, oscquery_port=None, preview_port=None)
    shown: dict[int, str] = {}
    starts: list[float] = []
    arrivals: list[tuple[str, int]] = []
    with LiveSession(REGISTRY, {}, fps, render, options) as live:

        def watch(frame: int, rgb: Any, snapshot: Any) -> None:
            shown[frame] = snapshot[PROBE_KEY]
            starts.append(time.perf_counter())

        live.loop.sinks.append(watch)
        handle = live.receiver.handle_packet
        probes = {
            _osc("/backrooms/decay/fields", "s", value.encode() + b"\x00" * (4 - len(value) % 4)): value
            for value in PROBE_VALUES
        }

        def instrumented(data: bytes) -> None:
            frame = live.inbox.clock.current  # read first: a late read could only flatter the latency
            handle(data)
            if data in probes:
                arrivals.append((probes[data], frame))

        live.receiver.handle_packet = instrumented  # type: ignore[method-assign]
        sent = multiprocessing.get_context("spawn").Value("l", 0)
        flooder = None
        if flood:
            flooder = multiprocessing.get_context("spawn").Process(
                target=_flood, args=(live.osc.udp_port, seconds + 1.0, sent), daemon=True
            )
            flooder.start()
            time.sleep(0.5)
        runner = threading.Thread(target=live.run)
        runner.start()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        end = time.perf_counter() + seconds
        packets = list(probes)
        i = 0
        while time.perf_counter() < end:
            time.sleep(random.uniform(0.15, 0.35))
            sock.sendto(packets[i % 2], ("127.0.0.1", live.osc.udp_port))
            i += 1
        time.sleep(0.3)
        live.loop.stop()
        runner.join()
        if flooder is not None:
            flooder.join(10)
        received = live.osc.udp.received - i  # the probes are not part of the flood
        frame_seconds = list(live.loop.frame_seconds[5:])
    latencies = []
    last = max(shown)
    for value, frame in arrivals:
        first = next((f for f in range(frame, last + 1) if shown[f] == value), None)
        if first is not None:
            latencies.append(first - frame)
    intervals = [b - a for a, b in itertools.pairwise(starts[5:])]
    return {
        "fps": len(intervals) / sum(intervals),
        "p50": _percentile(frame_seconds, 0.5),
        "p99": _percentile(frame_seconds, 0.99),
        "interval_p99": _percentile(intervals, 0.99),
        "latency_max": max(latencies),
        "latency_mean": sum(latencies) / len(latencies),
        "probes": len(latencies),
        "flood_sent": sent.value,
        "flood_received": received,
        "flood_seconds": seconds + 1.0,
    }


def run(quick: bool) -> list[Measurement]:
    from backrooms.control.session import GraphFrames
    from backrooms.graph.catalog import declare_all
    from backrooms.graph.recipe import Recipe
    from backrooms.params import ParamStore

    declare_all()
    width, height = (96, 72) if quick else (160, 120)
    seconds = 4.0 if quick else 12.0
    recipe = Recipe(source="bench", nodes=("render", "decay"), width=width, height=height, fps=24.0)
    render = GraphFrames(recipe)
    snapshot = ParamStore().snapshot()
    for frame in range(3):
        render(frame, snapshot)  # warm-up: kernel loads, first allocations
    began = time.perf_counter()
    for frame in range(3, 13):
        render(frame, snapshot)
    free_fps = 10 / (time.perf_counter() - began)
    fps = round(min(24.0, 0.75 * free_fps), 1)
    quiet = _play(render, fps, seconds, flood=False)
    flooded = _play(render, fps, seconds, flood=True)
    size = f"{width}x{height} render+decay"
    change = 100 * (flooded["fps"] / quiet["fps"] - 1)
    return [
        Measurement(
            AREA, f"unpaced graph rate {size}", free_fps, "fps", "calibration; target = min(24, 75 %)"
        ),
        Measurement(AREA, "target frame rate", fps, "fps"),
        Measurement(
            AREA,
            "control latency, worst",
            quiet["latency_max"],
            "frames",
            f"{quiet['probes']} UDP probes; 1 = shows in frame N+1",
        ),
        Measurement(AREA, "control latency, mean", quiet["latency_mean"], "frames"),
        Measurement(
            AREA,
            "control latency under flood, worst",
            flooded["latency_max"],
            "frames",
            f"{flooded['probes']} probes",
        ),
        Measurement(AREA, "frame time p50, quiet", quiet["p50"] * 1000, "ms"),
        Measurement(AREA, "frame time p99, quiet", quiet["p99"] * 1000, "ms"),
        Measurement(AREA, "frame time p99, 10k msg/s flood", flooded["p99"] * 1000, "ms"),
        Measurement(AREA, "frame interval p99, quiet", quiet["interval_p99"] * 1000, "ms"),
        Measurement(AREA, "frame interval p99, flood", flooded["interval_p99"] * 1000, "ms"),
        Measurement(AREA, "achieved frame rate, quiet", quiet["fps"], "fps"),
        Measurement(
            AREA,
            "achieved frame rate, flood",
            flooded["fps"],
            "fps",
            f"{change:+.1f} % vs quiet (limit: -10 %)",
        ),
        Measurement(
            AREA,
            "flood rate sent",
            flooded["flood_sent"] / flooded["flood_seconds"],
            "msg/s",
            f"{flooded['flood_received']} of {flooded['flood_sent']} datagrams reached the server",
        ),
    ]
