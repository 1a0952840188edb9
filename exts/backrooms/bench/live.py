"""Live control: control latency in frames, and frame time / frame rate with and without an OSC flood.

The live loop renders the render + decay graph at a target rate it can hold (at most 24 fps). A
probe sends a real UDP message every ~0.25 s. Two latencies are reported: from the frame during
which the change entered the inbox to the first frame that shows it (the design promise: N -> N+1),
and from the frame during which the probe was *sent* (what a performer feels; it adds the operating
system's delivery to the server thread, reported in ms too). The flood run adds a separate process
sending 10,000 messages/s to four knobs (a DAW automating a few lanes at audio-block rate) and
compares frame time p99 and the achieved frame rate with the quiet run.
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
    sends: list[tuple[str, int, float]] = []  # (value, frame in progress, time) when the probe left
    queues: list[tuple[int, float]] = []  # (frame in progress, time) when it entered the inbox
    with LiveSession(REGISTRY, {}, fps, render, options) as live:

        def watch(frame: int, rgb: Any, snapshot: Any) -> None:
            shown[frame] = snapshot[PROBE_KEY]
            starts.append(time.perf_counter())

        live.loop.sinks.append(watch)
        submit = live.inbox.submit

        def instrumented(changes: Any, when: float | None = None) -> int | None:
            frame = submit(changes, when)
            if PROBE_KEY in changes:
                queues.append((frame, time.perf_counter()))
            return frame

        live.inbox.submit = instrumented  # type: ignore[method-assign]
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
        while time.perf_counter() < end:
            time.sleep(random.uniform(0.15, 0.35))
            value = PROBE_VALUES[len(sends) % 2]
            sends.append((value, live.inbox.clock.current, time.perf_counter()))
            sock.sendto(
                _osc("/backrooms/decay/fields", "s", value.encode() + b"\x00" * (4 - len(value) % 4)),
                ("127.0.0.1", live.osc.udp_port),
            )
        time.sleep(0.5)
        live.loop.stop()
        runner.join()
        if flooder is not None:
            flooder.join(10)
        received = live.osc.udp.received - len(sends)  # the probes are not part of the flood
        frame_seconds = list(live.loop.frame_seconds)[5:]
    latencies, end_to_end, delivery = [], [], []
    last = max(shown)
    for (value, sent_during, sent_at), (queued_during, queued_at) in zip(sends, queues, strict=False):
        first = next((f for f in range(queued_during, last + 1) if shown[f] == value), None)
        if first is not None:
            latencies.append(first - queued_during)
            end_to_end.append(first - sent_during)
            delivery.append(queued_at - sent_at)
    intervals = [b - a for a, b in itertools.pairwise(starts[5:])]
    return {
        "fps": len(intervals) / sum(intervals),
        "p50": _percentile(frame_seconds, 0.5),
        "p99": _percentile(frame_seconds, 0.99),
        "interval_p99": _percentile(intervals, 0.99),
        "latency_max": max(latencies),
        "end_to_end_max": max(end_to_end),
        "delivery_p99": _percentile(delivery, 0.99),
        "probes": len(latencies),
        "flood_sent": sent.value,
        "flood_received": received,
        "flood_seconds": seconds + 1.0,
    }


def run(quick: bool, device: str = "auto") -> list[Measurement]:
    if device == "cuda":
        return []  # CPU-only measurements
    from backrooms.control.session import GraphFrames
    from backrooms.graph.recipe import Recipe
    from backrooms.params import ParamStore

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
            f"{quiet['probes']} UDP probes; queued in frame N -> shown in frame N+latency",
        ),
        Measurement(AREA, "control latency under flood, worst", flooded["latency_max"], "frames"),
        Measurement(
            AREA, "send-to-screen latency, worst", quiet["end_to_end_max"], "frames", "includes OS delivery"
        ),
        Measurement(AREA, "send-to-screen latency under flood, worst", flooded["end_to_end_max"], "frames"),
        Measurement(AREA, "UDP delivery to inbox p99, quiet", quiet["delivery_p99"] * 1000, "ms"),
        Measurement(AREA, "UDP delivery to inbox p99, flood", flooded["delivery_p99"] * 1000, "ms"),
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
