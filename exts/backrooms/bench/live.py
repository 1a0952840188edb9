"""Live control: control latency in frames, and frame time / frame rate with and without an OSC flood.

The live loop plays the default chain (render -> diffusion -> decay) twice: flat out (the clock
never waits, so any time the flood takes from the frame loop shows as lost frames) and at 24 fps
(what a performer runs; on a machine that cannot hold 24 fps this is flat out too). A probe sends a
real UDP message every ~0.25 s. Two latencies are reported, counted in frames the loop started: from
the frame during which the change entered the inbox to the one during which a frame showing it is
handed to the screen (the design promise: applied to frame N+1, shown after the pipeline's
``latency`` more), and from the frame during which the probe was *sent* (what a performer feels; it
adds the operating system's delivery to the server thread, reported in ms too). The flood run adds
a separate process sending 10,000 messages/s to four knobs (a DAW automating a few lanes at
audio-block rate) and compares frame time p99 and the achieved frame rate with the quiet run. A
last two flat-out runs have a performer sweep a knob at 60 values a second, each reported beside the
quiet run: a variant rate (``world.stain_rate``: the loaded chunks dressed again every frame) and a
light rate (``world.light_failure_rate``: panels come and go as well, so the walk, the renderer's
grid and the panels' lists are made again every frame).
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
UNPACED = 1000.0  # a clock rate no chain reaches: the loop never waits
SWEEPS = {"a variant rate": "world.stain_rate", "a light rate": "world.light_failure_rate"}
SWEEP_RATE = 60  # a MIDI knob turned by hand sends about this many values a second


def _osc(address: str, tag: str, payload: bytes) -> bytes:
    def pad(raw: bytes) -> bytes:
        return raw + b"\x00" * (4 - len(raw) % 4)

    return pad(address.encode()) + pad(f",{tag}".encode()) + payload


def _flood(port: int, seconds: float, sent: Any, addresses: tuple[str, ...], rate: int) -> None:
    """Runs in its own process: ``rate`` messages a second to ``addresses``, paced in 2 ms slices."""
    import struct

    rng = random.Random(7)
    packets = [_osc(rng.choice(addresses), "f", struct.pack(">f", rng.random())) for _ in range(4096)]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    count = 0
    start = time.perf_counter()
    while (now := time.perf_counter()) - start < seconds:
        due = int((now - start) * rate)
        while count < due:
            sock.sendto(packets[count % len(packets)], ("127.0.0.1", port))
            count += 1
        time.sleep(0.002)
    sent.value = count


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _play(render: Any, initial: Any, fps: float, seconds: float, flood: str) -> dict[str, float]:
    """Play for ``seconds``; ``flood``: "" (none), "sink" (the sender runs, aimed at a socket nobody
    reads: its own CPU use without any handling), "session" (aimed at the session) or a knob of
    ``SWEEPS`` (swept, aimed at the session)."""
    from backrooms.control.session import LiveOptions, LiveSession
    from backrooms.params import REGISTRY

    options = LiveOptions(osc_port=0, osc_tcp_port=None, oscquery_port=None, preview_port=None)
    shown: dict[int, tuple[str, int]] = {}  # frame -> (its probe value, the frame started as it was shown)
    starts: list[float] = []
    sends: list[tuple[str, int, float]] = []  # (value, frame in progress, time) when the probe left
    queues: list[tuple[int, float]] = []  # (frame in progress, time) when it entered the inbox
    with LiveSession(REGISTRY, dict(initial), fps, render, options) as live:

        def watch(frame: int, rgb: Any, snapshot: Any) -> None:
            shown[frame] = (snapshot[PROBE_KEY], live.loop.frame)
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
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind(("127.0.0.1", 0))
        if flood:
            port = sink.getsockname()[1] if flood == "sink" else live.osc.udp_port
            swept = flood in SWEEPS.values()
            aim = ((REGISTRY[flood].osc_address,), SWEEP_RATE) if swept else (FLOOD_ADDRESSES, FLOOD_RATE)
            flooder = multiprocessing.get_context("spawn").Process(
                target=_flood, args=(port, seconds + 1.0, sent, *aim), daemon=True
            )
            flooder.start()
            time.sleep(0.5)
        runner = threading.Thread(target=live.run)
        runner.start()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        end = time.perf_counter() + seconds
        time.sleep(0.15)
        while True:
            value = PROBE_VALUES[len(sends) % 2]
            sends.append((value, live.inbox.clock.current, time.perf_counter()))
            sock.sendto(
                _osc("/backrooms/decay/fields", "s", value.encode() + b"\x00" * (4 - len(value) % 4)),
                ("127.0.0.1", live.osc.udp_port),
            )
            # Probes at least three frames apart: two probes inside one slow frame would hide the first.
            recent = list(live.loop.frame_seconds)[-10:]
            spacing = max(0.15, 3 * _percentile(recent, 0.5)) if recent else 0.15
            time.sleep(random.uniform(spacing, 2 * spacing))
            if time.perf_counter() >= end:
                break
        live.loop.stop()
        runner.join()
        if flooder is not None:
            flooder.join(10)
        sink.close()
        received = live.osc.udp.received - len(sends)  # the probes are not part of the flood
        frame_seconds = list(live.loop.frame_seconds)[5:]
    latencies, end_to_end, delivery = [], [], []
    last = max(shown)
    for (value, sent_during, sent_at), (queued_during, queued_at) in zip(sends, queues, strict=False):
        first = next((f for f in range(queued_during, last + 1) if shown[f][0] == value), None)
        if first is not None:
            on_screen = shown[first][1]
            latencies.append(on_screen - queued_during)
            end_to_end.append(on_screen - sent_during)
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
    from backrooms.graph.recipe import load_recipe
    from backrooms.params import ParamStore

    width, height = (64, 48) if quick else (160, 120)
    seconds = 1.0 if quick else 8.0
    recipe = load_recipe(None).with_overrides(width=width, height=height, fps=24.0)
    render = GraphFrames(recipe, sound=False)  # as `backrooms live` plays without NDI
    snapshot = ParamStore(values=recipe.params).snapshot()
    for frame in range(3):
        render(frame, snapshot)  # warm-up: kernel loads, model load, first allocations
    size = f"{width}x{height} {' -> '.join(node.kind for node in render.executor.nodes)}"
    # Flat out (the clock never waits) and at 24 fps, each quiet, with the sender aimed at a sink
    # (its own CPU use: on a small machine it competes with the chain) and flooding the session.
    runs = {
        (fps, flood): _play(render, recipe.params, fps, seconds, flood)
        for fps in (UNPACED, recipe.fps)
        for flood in ("", "sink", "session")
    }
    for knob in SWEEPS.values():
        runs[(UNPACED, knob)] = _play(render, recipe.params, UNPACED, seconds, knob)
    out = []
    for fps, label in ((UNPACED, "flat out"), (recipe.fps, f"at {recipe.fps:g} fps")):
        quiet, sink, flooded = (runs[(fps, flood)] for flood in ("", "sink", "session"))
        change = 100 * (flooded["fps"] / quiet["fps"] - 1)
        handling = 100 * (flooded["fps"] / sink["fps"] - 1)
        note = f"{change:+.1f} % vs quiet (limit: -10 %), {handling:+.1f} % vs sender-only"
        out += [
            Measurement(AREA, f"frame rate {label}, quiet", quiet["fps"], "fps", size),
            Measurement(AREA, f"frame rate {label}, sender aimed elsewhere", sink["fps"], "fps"),
            Measurement(AREA, f"frame rate {label}, 10k msg/s flood", flooded["fps"], "fps", note),
            Measurement(AREA, f"frame time p99 {label}, quiet", quiet["p99"] * 1000, "ms"),
            Measurement(AREA, f"frame time p99 {label}, flood", flooded["p99"] * 1000, "ms"),
        ]
    quiet = runs[(UNPACED, "")]
    for what, knob in SWEEPS.items():
        swept = runs[(UNPACED, knob)]
        change = f"{100 * (swept['fps'] / quiet['fps'] - 1):+.1f} % vs quiet"
        note = f"{change}; {knob}, {SWEEP_RATE} values/s over OSC"
        out.append(Measurement(AREA, f"frame rate flat out, {what} swept", swept["fps"], "fps", note))
    quiet, flooded = runs[(recipe.fps, "")], runs[(recipe.fps, "session")]
    out += [
        Measurement(
            AREA,
            "control latency, worst",
            quiet["latency_max"],
            "frames",
            f"{quiet['probes']} UDP probes; queued in frame N -> shown while frame N+latency starts "
            f"(applied to N+1, the pipeline's {render.latency} frames more)",
        ),
        Measurement(AREA, "control latency under flood, worst", flooded["latency_max"], "frames"),
        Measurement(
            AREA, "send-to-screen latency, worst", quiet["end_to_end_max"], "frames", "includes OS delivery"
        ),
        Measurement(AREA, "send-to-screen latency under flood, worst", flooded["end_to_end_max"], "frames"),
        Measurement(AREA, "UDP delivery to inbox p99, quiet", quiet["delivery_p99"] * 1000, "ms"),
        Measurement(AREA, "UDP delivery to inbox p99, flood", flooded["delivery_p99"] * 1000, "ms"),
        Measurement(
            AREA,
            "flood rate sent",
            flooded["flood_sent"] / flooded["flood_seconds"],
            "msg/s",
            f"{flooded['flood_received']} of {flooded['flood_sent']} datagrams reached the server",
        ),
    ]
    return out
