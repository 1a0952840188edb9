"""``backrooms decay IN OUT``: put a creator's own image or video through the tape."""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from backrooms.decay.settings import NODE  # declares the decay.* knobs
from backrooms.errors import UserError

IMAGE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v")
IMAGE_MODES = ("RGB", "RGBA", "L", "P")  # colour, colour + alpha, grey, palette


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("decay", help="apply the VHS decay pass to an image (PNG/JPEG) or video (MP4)")
    p.add_argument("input", type=Path, metavar="IN", help="PNG/JPEG image or video file")
    p.add_argument("output", type=Path, metavar="OUT", help="PNG/JPEG for images, MP4 for video")
    p.add_argument("--preset", help="tape preset (sp, lp, ep, worn, found-footage)")
    p.add_argument("--seed", type=int, default=0, help="seed of the tape's noise (default 0)")
    p.add_argument(
        "--frame", type=int, default=0, help="frame number of a still (picks its noise; default 0)"
    )
    p.add_argument("--device", default="cpu", help="Warp device, e.g. cpu or cuda (default cpu)")
    p.add_argument(
        "--no-audio",
        dest="audio",
        action="store_false",
        help="copy a video's sound as it is instead of playing it through the tape's audio track",
    )
    p.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="NODE.PARAM=VALUE",
        help="set a parameter (repeatable), e.g. decay.snow=3",
    )
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
    if suffix_in in IMAGE_SUFFIXES:
        if suffix_out not in IMAGE_SUFFIXES:
            raise UserError(
                f"{args.output}: an image goes to .png, .jpg or .jpeg, not {suffix_out or 'no suffix'}"
            )
        decay_image(args.input, args.output, params, args.seed, args.frame, args.device)
        print(f"wrote {args.output}")
    else:
        if suffix_out != ".mp4":
            raise UserError(f"{args.output}: a video goes to .mp4, not {suffix_out or 'no suffix'}")
        count = decay_video(args.input, args.output, params, args.seed, args.device, args.audio)
        print(f"wrote {count} frames to {args.output}")
    return 0


def read_image(path: Path) -> np.ndarray:
    """(H, W, 4) uint8 RGBA, or a one-line error naming what is wrong with the file."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            mode = image.mode
            if mode not in IMAGE_MODES:
                bands = len(image.getbands())
                raise UserError(
                    f"{path}: expected an RGB, RGBA or greyscale image, got {mode} ({bands} channels)"
                )
            if image.width == 0 or image.height == 0:
                raise UserError(f"{path}: the image is empty ({image.width}x{image.height})")
            return np.asarray(image.convert("RGBA"))
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise UserError(f"{path}: cannot read the image ({exc.__class__.__name__})") from None


def decay_image(src: Path, dst: Path, params, seed: int, frame: int, device: str) -> None:
    from PIL import Image

    from backrooms.io.atomic import atomic_path

    rgba = read_image(src)
    out = HostTape(rgba.shape[1], rgba.shape[0], seed, 30.0, device).process(rgba, frame, params)
    fmt = IMAGE_SUFFIXES[dst.suffix.lower()]
    try:
        with atomic_path(dst) as tmp:
            Image.fromarray(out[..., :3]).save(tmp, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    except OSError as exc:
        raise UserError(f"{dst}: cannot write ({exc.strerror or exc})") from None


def video_frames(path: Path) -> tuple[float, Iterator[np.ndarray]]:
    """(fps, RGB frames) of a video, or a one-line error if it has no readable video frames."""
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise UserError(f"{path}: cannot read the video ({exc.__class__.__name__})") from None
    if not container.streams.video:
        container.close()
        raise UserError(f"{path}: no video stream")
    stream = container.streams.video[0]
    fps = float(stream.average_rate or stream.guessed_rate or 30)

    def frames() -> Iterator[np.ndarray]:
        with container:
            try:
                for frame in container.decode(stream):
                    yield frame.to_ndarray(format="rgb24")
            except av.error.FFmpegError as exc:
                raise UserError(f"{path}: the video is damaged ({exc.__class__.__name__})") from None

    return fps, frames()


def decay_video(src: Path, dst: Path, params, seed: int, device: str, audio: bool = True) -> int:
    """The video through the tape; its sound through the tape's linear audio track (``audio``) or
    copied packet for packet."""
    from backrooms.io.mp4 import write_mp4

    fps, frames = video_frames(src)
    first = next(frames, None)
    if first is None or first.size == 0:
        raise UserError(f"{src}: the video has no frames")
    height, width = first.shape[:2]
    if width % 2 or height % 2:
        raise UserError(f"{src}: H.264 output needs an even frame size, the video is {width}x{height}")
    tape = HostTape(width, height, seed, fps, device)

    def decayed() -> Iterator[np.ndarray]:
        for index, rgb in enumerate(itertools.chain([first], frames)):
            rgba = np.empty((*rgb.shape[:2], 4), dtype=np.uint8)
            rgba[..., :3], rgba[..., 3] = rgb, 255
            yield tape.process(rgba, index, params)

    sound, copy = (taped_sound(src, params, seed), None) if audio else (None, src)
    try:
        return write_mp4(dst, decayed(), fps, audio=sound, copy_audio=copy)
    except OSError as exc:
        raise UserError(f"{dst}: cannot write ({exc.strerror or exc})") from None


def taped_sound(src: Path, params, seed: int) -> np.ndarray | None:
    """The file's sound as the tape's linear audio track plays it back (None if it has none)."""
    from backrooms.audio.clock import RATE
    from backrooms.audio.node import tape_speed
    from backrooms.audio.params import NODE as AUDIO
    from backrooms.audio.tape import play_track
    from backrooms.io.audio import read_audio

    sound = read_audio(src, RATE)
    if sound is None or len(sound) == 0:
        return None
    values = params.node(AUDIO)
    return play_track(sound, values, tape_speed(params, values["speed"]), seed, RATE)


class HostTape:
    """The decay node outside a graph: host frames in, host frames out."""

    def __init__(self, width: int, height: int, seed: int, fps: float, device: str) -> None:
        import warp as wp

        from backrooms.graph.executor import Executor

        try:
            wp.get_device(device)
        except (RuntimeError, ValueError):
            raise UserError(f"--device: {device!r} is not available here") from None
        self._params = None
        self.executor = Executor.for_frames(
            ("decay",), width, height, device, seed, fps, lambda _f: self._params
        )

    def process(self, rgba: np.ndarray, frame: int, params) -> np.ndarray:
        from backrooms.graph.product import RGB

        self._params = params
        return self.executor.render(frame, {RGB: rgba})[RGB].numpy()
