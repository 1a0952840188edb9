"""H.264 MP4 through PyAV (FFmpeg's libraries), written atomically."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import Interpolation

from backrooms.errors import UserError
from backrooms.io.atomic import atomic_path

# Same frames, same bytes: FFmpeg's RGB -> YUV conversion (swscale) and libx264 both pick a thread
# count from the CPUs they see, and swscale's slices change pixels at their seams, so a render on a
# busy or smaller machine gave another clip.mp4. Both run on one thread, bit-exact; encoding is a
# small part of a render (veryfast H.264 encodes 1080p at dozens of frames a second on one core).
ENCODER_THREADS = 1
X264_THREADING = "threads=1:lookahead-threads=1:sliced-threads=0:sync-lookahead=0"
TO_YUV = Interpolation.BILINEAR | Interpolation.BITEXACT | Interpolation.ACCURATE_RND


def write_mp4(path: Path, frames: Iterable[np.ndarray], fps: float, crf: int = 18) -> int:
    """Encode (H, W, 3|4) uint8 frames as H.264 yuv420p; returns the number of frames written."""
    count = 0
    with atomic_path(path) as tmp, av.open(str(tmp), mode="w", format="mp4") as container:
        stream = None
        for rgb in frames:
            if stream is None:
                stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
                stream.width, stream.height = rgb.shape[1], rgb.shape[0]
                stream.pix_fmt = "yuv420p"
                stream.codec_context.thread_count = ENCODER_THREADS
                stream.options = {
                    "crf": str(crf),
                    "preset": "veryfast",
                    "threads": str(ENCODER_THREADS),
                    "x264-params": X264_THREADING,
                }
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[..., :3]), format="rgb24")
            frame = frame.reformat(format="yuv420p", interpolation=TO_YUV, threads=1)
            container.mux(stream.encode(frame))
            count += 1
        if stream is not None:
            container.mux(stream.encode())
    return count


def read_mp4(path: Path) -> list[np.ndarray]:
    """Decode every frame as (H, W, 3) uint8 RGB."""
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def read_video(path: Path) -> tuple[float, Iterator[np.ndarray]]:
    """(fps, RGB frames as they are decoded) of any video FFmpeg reads, or a one-line error."""
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
