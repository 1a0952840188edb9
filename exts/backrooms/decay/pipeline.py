"""``VhsTape``: owns the decay pass's device buffers for one resolution and launches its kernels."""

from __future__ import annotations

import math

import numpy as np
import warp as wp

from backrooms.decay import kernels, osd, signal
from backrooms.decay.settings import SEGMENT, FrameSettings
from backrooms.launch import Bands, cpu_cores
from backrooms.seeds import numpy_rng, smooth_noise, warp_seed

MAX_BANDS = 8
FM_PREROLL_US = 1.5  # SECAM: the FM colour runs this long before each line (its filters settle)


def tape_struct(s: FrameSettings, generation: int, segment: int) -> kernels.Tape:
    """Pack one generation's settings into the kernel struct (``segment``: samples per thread)."""
    f = s.filters
    t = kernels.Tape()
    t.width, t.height, t.frame = s.width, s.height, s.frame
    t.segment = segment
    t.warmup, t.over = f.warmup, f.over
    t.seed_samples, t.seed_lines = s.seeds(generation)
    t.seed_motion = warp_seed(s.seed, "decay", "motion", generation)
    t.rate = s.width * f.over / signal.ACTIVE_LINE_US
    t.px = s.width / 720.0
    t.a_i_in, t.a_q_in = f.a_i_in, f.a_q_in
    t.n_b0, t.n_b1, t.n_b2, t.n_a1, t.n_a2 = f.notch.b0, f.notch.b1, f.notch.b2, f.notch.a1, f.notch.a2
    t.a_demod, t.a_smear, t.a_luma, t.a_sharp = f.a_demod, f.a_smear, f.a_luma, f.a_sharp
    t.k_sharp, t.k_ring = s.sharpen, s.ringing
    t.r_b0, t.r_a1, t.r_a2 = f.ring.b0, f.ring.a1, f.ring.a2
    t.a_chroma, t.chroma_delay = f.a_chroma, f.chroma_delay
    t.hue, t.phase_noise, t.chroma_loss_p = s.hue_rad, s.phase_noise_rad, s.chroma_loss_p
    t.luma_noise, t.a_luma_noise = s.luma_noise, f.a_luma_noise
    t.chroma_noise, t.a_chroma_noise = s.chroma_noise, f.a_chroma_noise
    t.comp_noise, t.a_comp_noise = s.composite_noise, f.a_comp_noise
    t.snow_p, t.snow_decay = s.snow_p, s.snow_decay
    t.snow_cos, t.snow_sin = math.cos(2 * math.pi * s.snow_cycles), math.sin(2 * math.pi * s.snow_cycles)
    t.dropout_p = s.dropout_p
    t.head_lines, t.head_px, t.head_jitter_px = s.head_lines, s.head_px, s.head_jitter_px
    t.head_mid_jitter, t.head_noise = s.head_mid_jitter, s.head_noise
    t.tracking, t.tracking_lines, t.edge_px = s.tracking, s.tracking_lines, s.edge_px
    t.roll_row, t.roll_lines, t.roll_level = s.roll_row, s.roll_lines, s.roll_level
    t.crease_row, t.crease_lines, t.crease_level = s.crease_row, s.crease_lines, s.crease_level
    t.tear_row, t.tear_px, t.clog = s.tear_row, s.tear_px, s.clog
    t.standard = tuple(signal.STANDARDS).index(s.standard)
    fm_struct(t, s)
    return t


def fm_struct(t: kernels.Tape, s: FrameSettings) -> None:
    """SECAM's FM colour: frequencies as turns per sample off the subcarrier table's frequency."""
    f = s.filters
    std = signal.STANDARDS[s.standard]
    turn = 2.0 * math.pi / t.rate  # radians per sample per MHz
    t.fm_rest_r, t.fm_rest_b = ((rest - std.fsc_mhz) * turn for rest in signal.SECAM_REST_MHZ)
    t.fm_gain_r, t.fm_gain_b = (mhz * turn for mhz in signal.SECAM_MHZ_PER_PLANE)
    t.fm_lo, t.fm_hi = ((mhz - std.fsc_mhz) * turn for mhz in signal.SECAM_LIMITS_MHZ)
    t.fm_amp = signal.SECAM_BELL_M0
    t.bl_b0, t.bl_b1, t.bl_b2, t.bl_a1, t.bl_a2 = f.bell.b0, f.bell.b1, f.bell.b2, f.bell.a1, f.bell.a2
    ab = f.anti_bell
    t.ab_b0, t.ab_b1, t.ab_b2, t.ab_a1, t.ab_a2 = ab.b0, ab.b1, ab.b2, ab.a1, ab.a2
    t.a_fm, t.a_pre, t.a_de = f.a_fm, f.a_pre, f.a_de
    t.fm_noise = s.fm_noise
    fm = std.line_phase == "secam"
    t.preroll = math.ceil(FM_PREROLL_US * signal.sample_rate_mhz(s.width)) if fm else 0


def play_struct(s: FrameSettings) -> kernels.Play:
    """The playback stage: vertical jitter and roll, tint/saturation drift, vignette, blue screen."""
    p = kernels.Play()
    p.width, p.height, p.fields, p.vignette = s.width, s.height, s.fields, s.vignette
    p.roll, p.blank, p.blue = s.v_roll, s.blank_lines, s.blue
    std = signal.STANDARDS[s.standard]
    m = std.from_planes
    p.r1, p.r2, p.g1, p.g2, p.b1, p.b2 = m[0, 1], m[0, 2], m[1, 1], m[1, 2], m[2, 1], m[2, 2]
    p.sequential = int(std.line_phase == "secam")
    p.jitter = (
        s.jitter_lines * numpy_rng(s.seed, "decay", "jitter", s.frame).uniform(-1.0, 1.0) * math.sqrt(3.0)
    )
    minutes = s.frame / 1800.0  # drift wanders over about a minute of 30-fps video
    tint = math.radians(4.0) * s.drift * smooth_noise(minutes * 3.0, s.seed, "decay", "tint")
    sat = s.saturation * (1.0 + 0.08 * s.drift * smooth_noise(minutes * 2.0, s.seed, "decay", "saturation"))
    c, n = math.cos(tint) * sat, math.sin(tint) * sat
    p.iq00, p.iq01, p.iq10, p.iq11 = c, -n, n, c
    return p


def carrier_table(width: int, over: int, fsc_mhz: float = signal.FSC_MHZ) -> np.ndarray:
    """cos/sin of the subcarrier at every sample of a padded line (turned to each line's phase)."""
    n = (width + 2 * kernels.PAD) * over
    sample = np.arange(n, dtype=np.float64) - kernels.PAD * over
    cycles = signal.alias(signal.cycles_per_sample(fsc_mhz, width * over))
    phase = 2.0 * np.pi * cycles * sample
    return np.stack([np.cos(phase), np.sin(phase)], axis=1).astype(np.float32)


class VhsTape:
    """The decay pass for one frame size on one device; ``apply`` degrades an RGBA frame in place.

    On CPUs each stage is split into ``bands`` of lines launched from as many Python threads (a
    Warp CPU launch runs on one thread and releases the GIL), like ntsc-rs's row-parallel passes.
    """

    def __init__(
        self,
        width: int,
        height: int,
        device: str = "cpu",
        segment: int | None = None,
        bands: int | None = None,
        run: int | None = None,
    ) -> None:
        """``segment``: pixels per thread of the tape (default whole lines on CPUs, ``SEGMENT`` on
        GPUs); ``run``: pixels per thread of the per-pixel stages (whole lines on CPUs, 1 on GPUs);
        ``bands``: concurrent CPU launches per stage (default one per core)."""
        self.width, self.height, self.device = width, height, device
        cpu = wp.get_device(device).is_cpu
        self.segment = segment or (width if cpu else SEGMENT)
        self.run = run or (width if cpu else 1)
        self.launcher = Bands(device, min(bands or cpu_cores(), MAX_BANDS), "vhs", rows=height)
        shape = (height, width)
        self.planes = [[wp.zeros(shape, dtype=float, device=device) for _ in range(3)] for _ in range(2)]
        self.font = wp.array(osd.FONT, dtype=int, device=device)
        self.lines = wp.zeros((osd.MAX_LINES, osd.LINE_FIELDS), dtype=int, device=device)
        self.glyphs = wp.zeros(osd.MAX_CHARS, dtype=int, device=device)
        self.carriers: dict[str, wp.array] = {}
        self.carrier("ntsc")

    def carrier(self, standard: str) -> wp.array:
        """The subcarrier table of a colour standard (made once, on its first frame)."""
        if standard not in self.carriers:
            fsc = signal.STANDARDS[standard].fsc_mhz
            table = carrier_table(self.width, signal.oversampling(self.width, fsc), fsc)
            self.carriers[standard] = wp.array(table, dtype=float, device=self.device)
        return self.carriers[standard]

    def _set_osd(self, s: FrameSettings, fps: float) -> None:
        lines, glyphs = osd.layout(s.frame, fps, s.osd_start, s.speed_label, s.width, s.height, s.osd_style)
        self.lines.assign(lines)
        self.glyphs.assign(glyphs)

    def _launch(self, kernel: wp.Kernel, threads: int, inputs: list, outputs: list) -> None:
        """Launch ``threads`` threads (the kernel's ``first`` input offsets each band's thread ids)."""
        self.launcher.launch_split(kernel, threads, inputs, outputs)

    def apply(self, rgb: wp.array, s: FrameSettings, fps: float = 30.0) -> None:
        """Record ``rgb`` (H, W, 4 uint8) to tape ``1 + generations`` times and play it back into ``rgb``."""
        if (s.height, s.width) != (self.height, self.width):
            raise ValueError(f"tape built for {self.width}x{self.height}, settings are {s.width}x{s.height}")
        # OSD layers: 1 the recorded stamp, 2 the deck's; a blue screen always shows the deck's.
        osd_on = (3 if s.osd else 0) | (2 if s.blue > 0.0 else 0)
        if osd_on:
            self._set_osd(s, fps)
        src, dst = self.planes
        pixels = self.height * ((self.width + self.run - 1) // self.run)
        to_planes = wp.mat33(*signal.STANDARDS[s.standard].to_planes.ravel())
        inputs = [rgb, to_planes, self.run, osd_on, self.lines, self.glyphs, self.font]
        self._launch(kernels.record, pixels, inputs, src)
        carrier = self.carrier(s.standard)
        # SECAM's FM phase is an integral along the whole line: one thread a line on every device.
        segment = self.width if s.standard == "secam" else self.segment
        for generation in range(1 + s.generations):
            t = tape_struct(s, generation, segment)
            segments = self.height * ((self.width + t.segment - 1) // t.segment)
            self._launch(kernels.tape_lines, segments, [*src, carrier, t], dst)
            src, dst = dst, src
        play = [*src, play_struct(s), self.run, osd_on, self.lines, self.glyphs, self.font]
        self._launch(kernels.play_out, pixels, play, [rgb])
