"""H.264 MP4 through PyAV (FFmpeg's libraries), written atomically, with an optional AAC soundtrack."""

from __future__ import annotations

import atexit
import contextlib
import queue
import threading
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import Interpolation

from backrooms.errors import UserError
from backrooms.io.atomic import atomic_path
from backrooms.io.audio import CHANNELS, as_stored

AAC_FRAME = 1024  # samples per AAC frame
AAC_BITRATE = 192_000
# Same frames, same bytes: FFmpeg's RGB -> YUV conversion (swscale) and libx264 both pick a thread
# count from the CPUs they see, and swscale's slices change pixels at their seams, so a render on a
# busy or smaller machine gave another clip.mp4. Both run on a thread count fixed here instead:
# swscale on one (9 ms a 1920x1080 frame), x264 on four frame threads, whose bytes do not depend on
# the cores under them (x264 is deterministic unless told otherwise; the same stream on one core and
# on two). One thread was the slowest stage of a GPU render at 1280x720 and up (78 ms a frame at
# 1280x720 on the H200 machine's Xeon); four encode 1920x1080 in 37 instead of 52 ms even on two
# cores.
ENCODER_THREADS = 4
X264_THREADING = f"threads={ENCODER_THREADS}:lookahead-threads=1:sliced-threads=0:sync-lookahead=0"
TO_YUV = Interpolation.BILINEAR | Interpolation.BITEXACT | Interpolation.ACCURATE_RND
# x264's AVX-512 code (build 165, as PyAV ships it) reads memory the encoder allocated and never wrote,
# so on an AVX-512 CPU one render in a few gave another H.264 stream (whatever the heap held before;
# MALLOC_PERTURB_ makes it happen every time). Its AVX2 code gives the bytes AVX-512 gives on a clean
# heap, and every CPU with AVX-512 has AVX2.
X264_NO_AVX512 = ":asm=AVX2"


def _x264_params() -> str:
    """x264's settings for bit-exact output: a fixed thread count, and no AVX-512 where the CPU has it."""
    try:  # numpy's runtime CPU dispatch table: what the CPU and the OS offer, on every platform
        from numpy._core._multiarray_umath import __cpu_features__ as cpu
    except ImportError:
        cpu = {}
    return X264_THREADING + (X264_NO_AVX512 if cpu.get("AVX512F") else "")


def write_mp4(
    path: Path,
    frames: Iterable[np.ndarray],
    fps: float,
    crf: int = 18,
    audio: np.ndarray | None = None,
    rate: int = 48000,
    copy_audio: Path | None = None,
) -> int:
    """Encode (H, W, 3|4) uint8 frames as H.264 yuv420p; returns the number of frames written.

    ``audio`` (float (n, 2) in [-1, 1] at ``rate`` Hz) becomes an AAC stream, interleaved with the
    video as it goes so the muxer never holds more than a frame of either. It is read as the video
    advances: the samples up to the end of frame ``n`` are read only after ``frames`` has yielded frame
    ``n``, and the rest only once ``frames`` is exhausted, so a caller may fill them in as it yields.
    ``copy_audio`` names a media file whose first audio stream is copied in untouched instead.
    """
    count = 0
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(atomic_path(path))
        container = stack.enter_context(av.open(str(tmp), mode="w", format="mp4"))
        source = stack.enter_context(av.open(str(copy_audio))) if copy_audio is not None else None
        stream = sound = copied = None
        for rgb in frames:
            if stream is None:  # every stream is added before the first packet writes the header
                stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
                stream.width, stream.height = rgb.shape[1], rgb.shape[0]
                stream.pix_fmt = "yuv420p"
                stream.codec_context.thread_count = ENCODER_THREADS
                stream.options = {
                    "crf": str(crf),
                    "preset": "veryfast",
                    "threads": str(ENCODER_THREADS),
                    "x264-params": _x264_params(),
                }
                sound = _AudioTrack(container, audio, rate) if audio is not None else None
                copied = _copied_stream(container, source)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[..., :3]), format="rgb24")
            frame = frame.reformat(format="yuv420p", interpolation=TO_YUV, threads=1)
            container.mux(stream.encode(frame))
            count += 1
            if sound is not None:
                sound.write_until(round(count * rate / fps))
        if stream is not None:
            container.mux(stream.encode())
        if sound is not None:
            sound.finish()
        if copied is not None:
            for packet in source.demux(source.streams.audio[0]):
                if packet.dts is not None:
                    packet.stream = copied
                    container.mux(packet)
    return count


class EncodeAlong:
    """``write_mp4`` on a thread of its own, fed frame by frame while the frames are still being
    made: the clip is encoded during the render instead of after its last frame (which then decoded
    every PNG again and encoded on its own: half of a 1920x1080 render's time on a GPU machine).

    Same bytes as ``write_mp4`` over the same frames, with the soundtrack as the WAV stem holds it
    (``add`` takes each frame's float samples; they are rounded to 16 bits as the stem rounds them).
    At most ``depth`` frames wait, so a slow encoder holds the render back instead of filling memory.
    ``finish`` puts the file in place; ``abandon`` (or a failure, or the interpreter exiting before
    ``finish``) leaves no file and no temporary.
    """

    _END = object()

    def __init__(self, path: Path, fps: float, rate: int = 48000, depth: int = 4) -> None:
        self.path, self.fps, self.rate = Path(path), fps, rate
        self._waiting: queue.Queue = queue.Queue(depth)
        self._samples = _Samples()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._count = 0
        self._abandoned = False

    def add(self, rgb: np.ndarray, sound: np.ndarray | None = None) -> None:
        """Queue the next frame (a copy the caller no longer changes) and its samples; the first
        frame decides whether the clip has a soundtrack."""
        if self._thread is None:
            audio = self._samples if sound is not None else None
            self._thread = threading.Thread(target=self._encode, args=(audio,), name="mp4", daemon=True)
            self._thread.start()
            atexit.register(self.abandon)  # a host that quits mid-clip (Kit closed) leaves no temporary
        self._put((rgb, sound))

    def finish(self) -> tuple[int, int]:
        """Wait for the encoder; (frames, samples) written. Raises the encoder's failure."""
        if self._thread is None:
            raise ValueError(f"{self.path}: no frames to encode")
        self._put(self._END)
        self._thread.join()
        atexit.unregister(self.abandon)
        if self._failure is not None:
            raise self._failure
        return self._count, len(self._samples)

    def abandon(self) -> None:
        """Stop without a file (the render failed): the temporary goes, nothing replaces the clip."""
        self._abandoned = True
        if self._thread is not None:
            atexit.unregister(self.abandon)
            with contextlib.suppress(queue.Full):
                self._waiting.put_nowait(self._END)  # wakes an encoder waiting for a frame
            self._thread.join()

    def _put(self, item: object) -> None:
        while True:  # never blocks for good on an encoder that has failed
            if self._failure is not None:
                raise self._failure
            with contextlib.suppress(queue.Full):
                self._waiting.put(item, timeout=0.1)
                return

    def _frames(self) -> Iterator[np.ndarray]:
        while (item := self._waiting.get()) is not self._END:
            if self._abandoned:
                break
            rgb, sound = item
            if sound is not None:  # before the frame: write_mp4 reads samples up to its end
                self._samples.append(as_stored(sound))
            self._count += 1
            yield rgb
        if self._abandoned:
            raise RuntimeError(f"{self.path}: abandoned")  # write_mp4 then drops its temporary

    def _encode(self, audio: _Samples | None) -> None:
        try:
            write_mp4(self.path, self._frames(), self.fps, audio=audio, rate=self.rate)
        except BaseException as exc:  # raised on the render's thread, by add or finish
            self._failure = exc


class _Samples:
    """Stereo samples appended as frames arrive; ``write_mp4``'s AAC track reads slices of what is
    there so far (``len``), as it reads a finished soundtrack."""

    def __init__(self) -> None:
        self._data = np.zeros((0, CHANNELS), np.float32)
        self._length = 0

    def append(self, chunk: np.ndarray) -> None:
        end = self._length + len(chunk)
        if end > len(self._data):  # doubling: appends cost amortised O(1) a sample
            grown = np.zeros((max(end, 2 * len(self._data)), CHANNELS), np.float32)
            grown[: self._length] = self._data[: self._length]
            self._data = grown
        self._data[self._length : end] = chunk
        self._length = end

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, part: slice) -> np.ndarray:
        return self._data[: self._length][part]


def _copied_stream(
    container: av.container.OutputContainer, source: av.container.InputContainer | None
) -> av.stream.Stream | None:
    """An output stream shaped like ``source``'s first audio stream (None if it has none)."""
    if source is None or not source.streams.audio:
        return None
    return container.add_stream_from_template(source.streams.audio[0])


class _AudioTrack:
    """Feeds float stereo samples to an AAC stream in whole encoder frames."""

    def __init__(self, container: av.container.OutputContainer, audio: np.ndarray, rate: int) -> None:
        self.container = container
        self.stream = container.add_stream("aac", rate=rate, layout="stereo")
        self.stream.bit_rate = AAC_BITRATE
        self.audio = audio  # read chunk by chunk: its caller may still be filling it in
        self.rate = rate
        self.done = 0

    def write_until(self, sample: int) -> None:
        while self.done + AAC_FRAME <= min(sample, len(self.audio)):
            self._encode(self.audio[self.done : self.done + AAC_FRAME])

    def finish(self) -> None:
        while self.done < len(self.audio):
            self._encode(self.audio[self.done : self.done + AAC_FRAME])
        self.container.mux(self.stream.encode(None))

    def _encode(self, samples: np.ndarray) -> None:
        chunk = np.ascontiguousarray(np.clip(samples, -1.0, 1.0).T, np.float32)
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate = self.rate
        frame.pts = self.done
        frame.time_base = Fraction(1, self.rate)
        self.container.mux(self.stream.encode(frame))
        self.done += chunk.shape[1]


def read_mp4(path: Path) -> list[np.ndarray]:
    """Decode every frame as (H, W, 3) uint8 RGB."""
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


def read_video(path: Path) -> tuple[float, Iterator[np.ndarray], int | None]:
    """(fps, RGB frames as they are decoded, how many the container says: None if it does not) of
    any video FFmpeg reads, or a one-line error."""
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

    return fps, frames(), stream.frames or None
