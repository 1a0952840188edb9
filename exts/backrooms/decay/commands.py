"""``backrooms decay IN OUT``: put a creator's own image or video through the tape."""

from __future__ import annotations

import argparse
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from tqdm import tqdm

from backrooms.decay import signal
from backrooms.decay.settings import NODE  # declares the decay.* knobs
from backrooms.decay.tape import HostTape
from backrooms.errors import UserError
from backrooms.io.image import SUFFIXES as IMAGE_SUFFIXES
from backrooms.options import add_device_option, add_param_options, count, seed


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("decay", help="apply the VHS decay pass to an image (PNG/JPEG) or video (MP4)")
    p.add_argument("input", type=Path, metavar="IN", help="PNG/JPEG image or video file")
    p.add_argument("output", type=Path, metavar="OUT", help="PNG/JPEG for images, MP4 for video")
    p.add_argument("--preset", help="tape preset (sp, lp, ep, worn, found-footage)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the tape's noise (default 0)")
    p.add_argument(
        "--frame", type=count, default=0, help="frame number of a still (picks its noise; default 0)"
    )
    add_device_option(p, "cpu", "cpu")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="allow OUT to be IN (it is replaced only once the decayed file is complete)",
    )
    p.add_argument(
        "--no-audio",
        dest="audio",
        action="store_false",
        help="copy a video's sound as it is instead of playing it through the tape's audio track",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar over a video's frames")
    add_param_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import backrooms.audio.params  # noqa: F401  (the audio.* knobs: --set audio.wow=... and the tape's sound)
    from backrooms.params import ParamStore, parse_assignment

    store = ParamStore()
    values = dict(parse_assignment(text) for text in args.assignments)
    if args.preset is not None:
        values[f"{NODE}.preset"] = args.preset
    store.update(values)
    params = store.snapshot()
    suffix_in, suffix_out = args.input.suffix.lower(), args.output.suffix.lower()
    if not args.input.is_file():
        raise UserError(f"{args.input}: no such file")
    if _same_file(args.input, args.output) and not args.overwrite:
        raise UserError(f"{args.output}: this is the input file; add --overwrite to replace it")
    if suffix_in in IMAGE_SUFFIXES:
        if suffix_out not in IMAGE_SUFFIXES:
            raise UserError(
                f"{args.output}: an image goes to .png, .jpg or .jpeg, not {suffix_out or 'no suffix'}"
            )
        decay_image(args.input, args.output, params, args.seed, args.frame, args.device)
        print(f"wrote {args.output}")
    else:
        if suffix_out in IMAGE_SUFFIXES:
            raise UserError(f"{args.input}: an image to decay is a .png, .jpg or .jpeg")
        if suffix_out != ".mp4":
            raise UserError(f"{args.output}: a video goes to .mp4, not {suffix_out or 'no suffix'}")
        count = decay_video(
            args.input, args.output, params, args.seed, args.device, args.audio, progress=not args.quiet
        )
        print(f"wrote {count} frame{'' if count == 1 else 's'} to {args.output}")
    return 0


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # OUT does not exist yet
        return False


def decay_image(src: Path, dst: Path, params, seed: int, frame: int, device: str) -> None:
    from backrooms.io.image import read_image, write_image

    rgba = read_image(src)
    fps = signal.STANDARDS[params[f"{NODE}.standard"]].fps  # a still's OSD clock: 25 fps for PAL/SECAM
    out = HostTape(rgba.shape[1], rgba.shape[0], seed, fps, device).process(rgba, frame, params)
    write_image(dst, out)


def decay_video(
    src: Path, dst: Path, params, seed: int, device: str, audio: bool = True, progress: bool = False
) -> int:
    """The video through the tape; its sound through the tape's linear audio track (``audio``: frame
    by frame, dropping out on the frames whose picture the tape's events strike) or copied packet
    for packet."""
    from backrooms.io.mp4 import read_video, write_mp4

    fps, frames, total = read_video(src)
    first = next(frames, None)
    if first is None or first.size == 0:
        raise UserError(f"{src}: the video has no frames")
    height, width = first.shape[:2]
    if width % 2 or height % 2:
        raise UserError(f"{src}: H.264 output needs an even frame size, the video is {width}x{height}")
    tape = HostTape(width, height, seed, fps, device)
    player = sound_player(src, params, seed, fps) if audio else None

    def decayed() -> Iterator[np.ndarray]:
        every = itertools.chain([first], frames)
        bar = tqdm(every, total=total, desc="decay", unit="frame", disable=not progress, leave=False)
        for index, rgb in enumerate(bar):
            rgba = np.empty((*rgb.shape[:2], 4), dtype=np.uint8)
            rgba[..., :3], rgba[..., 3] = rgb, 255
            out = tape.process(rgba, index, params)
            if player is not None:  # the frame's sound, before write_mp4 reads it
                player.play(index, tape.events)
            yield out
        if player is not None:
            player.play_rest()

    sound = player.out if player is not None else None
    try:
        return write_mp4(dst, decayed(), fps, audio=sound, copy_audio=None if audio else src)
    except OSError as exc:
        raise UserError(f"{dst}: cannot write ({exc.strerror or exc})") from None


def sound_player(src: Path, params, seed: int, fps: float):
    """A frame-by-frame tape player of the file's sound (None if it has none)."""
    from backrooms.audio.clock import RATE
    from backrooms.audio.player import FramePlayer
    from backrooms.io.audio import read_audio

    sound = read_audio(src, RATE)
    if sound is None or len(sound) == 0:
        return None
    return FramePlayer(sound, params, seed, fps, RATE)
