"""``backrooms bench [--json] [--quick] [area ...]``."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time

from backrooms.bench import AREAS
from backrooms.bench.core import cuda_available, format_table, machine
from backrooms.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="run the benchmarks and print a table (or JSON)")
    parser.add_argument(
        "areas", nargs="*", metavar="AREA", help=f"areas to run (default: all of {', '.join(AREAS)})"
    )
    parser.add_argument("--json", action="store_true", help="print JSON with the machine's description")
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats (a smoke run)")
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where to measure: cpu, cuda alone, or auto (cpu, plus cuda where present; default)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    unknown = [a for a in args.areas if a not in AREAS]
    if unknown:
        raise UserError(f"unknown bench area {unknown[0]!r} (areas: {', '.join(AREAS)})")
    if args.device == "cuda" and not cuda_available():
        raise UserError("--device cuda: no CUDA device is available on this machine")
    results = []
    for area in args.areas or AREAS:  # minutes each: say what runs and what it took
        print(f"bench: {area} ...", file=sys.stderr, flush=True)
        began = time.perf_counter()
        measured = importlib.import_module(f"backrooms.bench.{area}").run(args.quick, args.device)
        seconds = time.perf_counter() - began
        print(f"bench: {area}: {len(measured)} figures in {seconds:.0f} s", file=sys.stderr, flush=True)
        results += measured
    if args.json:
        print(json.dumps({"machine": machine(), "results": [m.to_json() for m in results]}, indent=2))
    else:
        info = machine()
        cuda = ", ".join(info.get("cuda_devices") or []) or "none"
        units = " + ".join(filter(None, (info.get("torch_cpu_capability", "?"), info.get("bfloat16_units"))))
        size = f"{info['cores']} cores, {info['memory_gib']} GiB"
        print(f"machine: {info['cpu']} ({units}), {size}, CUDA: {cuda}")
        print(format_table(results))
    return 0
