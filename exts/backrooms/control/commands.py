"""``backrooms live``: play the graph in real time from OSC, OSCQuery, MIDI and a web preview."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from backrooms.control.live import LATENCY
from backrooms.errors import UserError
from backrooms.options import add_render_options, count, recipe_from_args

MAX_LATENCY = 8  # frames: more only adds delay (each is a buffer set in memory)


def port(text: str) -> int:
    value = count(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    live = subparsers.add_parser(
        "live",
        help="play the graph in real time from OSC / OSCQuery / MIDI, with a web preview",
        description="Renders frames at the recipe's fps and listens for controllers. Addresses are "
        "/backrooms/<node>/<param> (see `backrooms params` and docs/osc.md). Port 0 picks a free port.",
    )
    add_render_options(live)
    live.add_argument("--frames", type=count, help="stop after this many frames (default: until Ctrl-C)")
    live.add_argument("--osc-port", type=port, default=9000, help="OSC over UDP (default 9000)")
    live.add_argument("--osc-tcp-port", type=port, help="OSC over TCP (default: the UDP port)")
    live.add_argument("--oscquery-port", type=port, default=9001, help="OSCQuery HTTP + WS (default 9001)")
    live.add_argument("--preview-port", type=port, default=8000, help="web preview page (default 8000)")
    live.add_argument("--no-preview", action="store_true", help="do not serve the web preview")
    live.add_argument(
        "--no-announce",
        action="store_true",
        help="do not announce OSC/OSCQuery over zeroconf (Bonjour; only done with --bind beyond loopback)",
    )
    live.add_argument("--bind", default="127.0.0.1", help="address to listen on (default: loopback)")
    live.add_argument("--allow-remote", action="store_true", help="required to --bind beyond loopback")
    live.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="IP[/BITS]",
        help="with --allow-remote: accept only these senders (repeatable; loopback is always accepted)",
    )
    live.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also serve HTTP/WebSocket requests addressed to this host name (repeatable; "
        "localhost and IP addresses always work)",
    )
    live.add_argument(
        "--ndi",
        nargs="?",
        const="backrooms",
        metavar="NAME",
        help="publish the frames (and the sound) as an NDI source (default name: backrooms; docs/live.md)",
    )
    live.add_argument(
        "--scenes",
        type=Path,
        metavar="FILE",
        help="scenes file (default: <recipe>.scenes.json beside the recipe, or ./scenes.json)",
    )
    live.add_argument(
        "--link",
        action="store_true",
        help="join an Ableton Link session: beat.* knobs pulse a knob on its beat (docs/live.md)",
    )
    live.add_argument("--midi-in", metavar="PORT", help="MIDI input port name (or part of it)")
    live.add_argument("--midi-map", type=Path, metavar="FILE", help="MIDI CC mapping JSON (created by learn)")
    live.add_argument("--record", type=Path, metavar="FILE", help="record every change (automation file)")
    live.add_argument(
        "--hold-fps",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="when frames run late, step render.scale and diffusion.generate down (and back up when "
        "there is room); a controller setting either takes them over (default: on; docs/live.md)",
    )
    live.add_argument(
        "--smoothing", type=float, default=0.05, metavar="SECONDS", help="glide time of continuous knobs"
    )
    live.add_argument(
        "--latency",
        type=count,
        default=None,
        metavar="FRAMES",
        help="frames the picture trails the controls: the graph works on the next ones meanwhile, "
        "both cores busy; 0 shows each frame as it is made, at a lower rate (default "
        f"{LATENCY}, and {LATENCY + 1} once frames run late at the frame-rate hold's lowest step; "
        "given, it stays; docs/live.md)",
    )
    live.set_defaults(func=run_live)


def run_live(args: argparse.Namespace) -> int:
    from backrooms.control.access import AllowList
    from backrooms.control.beat import ahead, on_the_beat
    from backrooms.control.link import QUANTUM, start_link
    from backrooms.control.ndi import NdiSink, start_ndi
    from backrooms.control.scenes import SceneControl
    from backrooms.control.session import GraphFrames, LiveOptions, LiveSession
    from backrooms.params import REGISTRY
    from backrooms.params.scenes import SceneBook, scenes_path

    if not 0 <= args.smoothing <= 10:
        raise UserError(f"--smoothing {args.smoothing}: expected 0 to 10 seconds")
    if args.latency is not None and args.latency > MAX_LATENCY:
        raise UserError(f"--latency {args.latency}: expected 0 to {MAX_LATENCY} frames")
    AllowList(args.bind, args.allow_remote, args.allow, args.allow_host)  # refuse bad options early
    recipe, params = recipe_from_args(args)
    scenes = args.scenes or (scenes_path(Path(args.recipe)) if args.recipe else Path("scenes.json"))
    book = SceneBook(scenes, REGISTRY)  # a bad file stops here, with one line
    options = LiveOptions(
        bind=args.bind,
        allow_remote=args.allow_remote,
        allow=args.allow,
        allow_hosts=args.allow_host,
        osc_port=args.osc_port,
        osc_tcp_port=args.osc_port if args.osc_tcp_port is None else args.osc_tcp_port,
        oscquery_port=args.oscquery_port,
        preview_port=None if args.no_preview else args.preview_port,
        midi_in=args.midi_in,
        midi_map=args.midi_map,
        record=args.record,
        smoothing=args.smoothing,
        announce=not args.no_announce,
        hold_fps=args.hold_fps and "render" in recipe.nodes,  # the steps are the render's cost
    )
    ndi = start_ndi(args.ndi, recipe.width, recipe.height, recipe.fps) if args.ndi else None
    try:
        latency = LATENCY if args.latency is None else args.latency
        deepest = None if args.latency is None else latency  # given, it stays; else GraphFrames' rule
        render = GraphFrames(recipe, ndi is not None, latency, deepest)  # sound only for NDI
        session = LiveSession(REGISTRY, dict(params), recipe.fps, render, options, recipe.to_json())
    except BaseException as exc:
        if ndi is not None:
            ndi.close()
        if isinstance(exc, OSError):
            raise UserError(f"cannot listen on {args.bind}: {exc.strerror or exc}") from None
        raise
    with session:
        size, nodes = f"{recipe.width}x{recipe.height}", ", ".join(recipe.nodes)
        print(f"backrooms live: {size} at {recipe.fps:g} fps, nodes {nodes}")
        trail = f"{render.latency} frames ({1000 * render.latency / recipe.fps:.0f} ms) behind the controls"
        if options.hold_fps and render.deepest > render.latency:
            trail += f"; {render.deepest} if frames still run late at the lowest step"
        print(f"  latency  the picture {trail}")
        print(
            f"  OSC      udp://{args.bind}:{session.osc.udp_port}  tcp://{args.bind}:{session.osc.tcp_port}"
        )
        if session.oscquery:
            print(f"  OSCQuery http://{args.bind}:{session.oscquery.port}/")
        if session.preview:
            print(f"  preview  {session.preview.url}")
        if args.record:
            print(f"  recording to {args.record}")
        if options.hold_fps:
            print("  frame rate held: render.scale / diffusion.generate step down when frames run late")
        if ndi is not None:
            session.loop.sinks.append(NdiSink(ndi, lambda: render.audio))
            print(f"  NDI      {ndi.name}")
        link = start_link() if args.link else None
        if link is not None:

            def on_beat(snapshot):  # the phase the beat will have when the frame is shown
                shown = render.latency / recipe.fps  # read each frame: the loop may deepen
                return on_the_beat(snapshot, ahead(link.state(), shown, QUANTUM), QUANTUM)

            render.beat = on_beat
            print(f"  Link     {link.tempo:g} BPM, {link.peers} peers")
        tempo = (lambda: link.tempo) if link is not None else (lambda: 120.0)
        control = SceneControl(book, session.store, session.inbox, session.tally, recipe.fps, tempo)
        session.receiver.commands.update(control.commands())
        session.midi.programs = control.program
        if session.preview is not None:  # the page's readout: Link's clock and the scene names
            session.preview.status.append(
                lambda: {
                    "link": {**link.state(), "quantum": QUANTUM} if link is not None else None,
                    "scenes": list(book.scenes),
                }
            )
        print(f"  scenes   {scenes} ({len(book.scenes)}): /backrooms/scene/save|recall|morph")
        sys.stdout.flush()
        failures: list[BaseException] = []

        def play() -> None:
            try:
                session.run(args.frames)
            except BaseException as exc:  # handed to the main thread, which reports it
                failures.append(exc)

        worker = threading.Thread(target=play, name="frame-loop")
        worker.start()

        # Ctrl-C ends the take through a handler, not a KeyboardInterrupt raised inside join(): in
        # CPython 3.11 an interrupted join can mark the still-running frame loop as stopped, and the
        # session would then close under it. A second Ctrl-C interrupts as usual.
        def end_take(_signum: int, _frame: object) -> None:
            session.loop.stop()
            signal.signal(signal.SIGINT, signal.default_int_handler)

        on_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, end_take) if on_main_thread else None
        try:
            while worker.is_alive():
                worker.join(0.2)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        for out in (ndi, link):
            if out is not None:
                out.close()
        if failures:
            raise failures[0]
        frames = session.loop.frame
        print(f"played {frames} frames; controller errors: {session.tally.summary()}")
    return 0
