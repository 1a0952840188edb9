"""The tape in plain numpy: the test oracle for the Warp kernels.

It mirrors ``kernels.py`` statement for statement (in float64, vectorised over lines, looping over
samples), including the counter-based noise (Warp's PCG hash re-implemented on uint32 arrays), so
kernel and reference agree to float32 rounding with noise on as well as off. The OSD and the
segmenting of lines for GPUs are not part of it: the oracle is the serial signal chain.
"""

from __future__ import annotations

import math

import numpy as np

from backrooms.decay import kernels, signal
from backrooms.decay.pipeline import play_struct, tape_struct
from backrooms.decay.settings import FrameSettings

M32 = 0xFFFFFFFF


def pcg(state: np.ndarray) -> np.ndarray:
    """Warp's ``rand_pcg`` on uint32 arrays."""
    b = state * np.uint32(747796405) + np.uint32(2891336453)
    c = ((b >> ((b >> np.uint32(28)) + np.uint32(4))) ^ b) * np.uint32(277803737)
    return (c >> np.uint32(22)) ^ c


def u32(x: np.ndarray | int) -> np.ndarray:
    return (np.asarray(x, dtype=np.int64) & M32).astype(np.uint32)


def rand_init(seed: np.ndarray | int, offset: np.ndarray | int) -> np.ndarray:
    return pcg(u32(seed) + pcg(u32(offset)))


class Stream:
    """A per-line vector of Warp ``randf`` states (draws may be taken for some lines only)."""

    def __init__(self, state: np.ndarray) -> None:
        self.state = state

    def bits(self, where: np.ndarray | None = None) -> np.ndarray:
        nxt = pcg(self.state)
        self.state = nxt if where is None else np.where(where, nxt, self.state)
        return nxt

    def uniform(self, where: np.ndarray | None = None) -> np.ndarray:
        return (self.bits(where) >> np.uint32(8)).astype(np.float64) * (1.0 / 16777216.0)

    def unit(self, where: np.ndarray | None = None) -> np.ndarray:
        return (self.uniform(where) - 0.5) * math.sqrt(12.0)


def half_noise(bits: np.ndarray) -> np.ndarray:
    return ((bits & np.uint32(0xFFFF)).astype(np.float64) / 65536.0 - 0.5) * math.sqrt(12.0)


def value_noise(seed: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    u, v = np.broadcast_arrays(np.asarray(u, np.float64), np.asarray(v, np.float64))
    fu, fv = np.floor(u), np.floor(v)
    i, j = fu.astype(np.int64), fv.astype(np.int64)

    def lattice(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        s = rand_init(seed, a) & np.uint32(0x7FFFFFFF)
        return 2.0 * Stream(rand_init(s, b)).uniform() - 1.0

    tu, tv = u - fu, v - fv
    su, sv = tu * tu * (3.0 - 2.0 * tu), tv * tv * (3.0 - 2.0 * tv)
    a = lattice(i, j) + (lattice(i + 1, j) - lattice(i, j)) * su
    b = lattice(i, j + 1) + (lattice(i + 1, j + 1) - lattice(i, j + 1)) * su
    return a + (b - a) * sv


def sample_line(src: np.ndarray, xf: np.ndarray) -> np.ndarray:
    w = src.shape[1]
    fx = np.floor(xf)
    x0 = np.clip(fx.astype(np.int64), 0, w - 1)
    x1 = np.clip(fx.astype(np.int64) + 1, 0, w - 1)
    rows = np.arange(src.shape[0])
    return src[rows, x0] + (src[rows, x1] - src[rows, x0]) * (xf - fx)


def tracking_level(t: kernels.Tape, from_bottom: np.ndarray, field_time: np.ndarray) -> np.ndarray:
    if t.tracking <= 0.0:
        return np.zeros(from_bottom.shape)
    edge = 1.0 - from_bottom / t.tracking_lines
    level = t.tracking * edge * edge * (0.7 + 0.3 * value_noise(t.seed_motion ^ 13, field_time * 0.02, 0.5))
    return np.where(from_bottom < t.tracking_lines, level, 0.0)


def band(rows: np.ndarray, centre: float, half: float, level: float) -> np.ndarray:
    if level <= 0.0:
        return np.zeros(rows.shape)
    d = np.abs(rows - centre) / half
    return np.where(d < 1.0, level * (1.0 - d) ** 2, 0.0)


def tape_lines(y: np.ndarray, i: np.ndarray, q: np.ndarray, t: kernels.Tape, carrier: float) -> tuple:
    """One record/playback pass over whole lines (all lines at once)."""
    h, w = y.shape
    rows = np.arange(h)
    d = t.chroma_delay
    field_time = (2 * t.frame + rows % 2).astype(np.float64)
    quarter = 2 * ((rows + t.frame) % 2)
    vsw, keep_i, keep_q = np.ones(h), np.ones(h), np.ones(h)
    if t.standard == 1:
        n4 = rows // 2 + (rows % 2) * (h // 2) + (t.frame % 4) * h
        quarter = (3 * n4) % 4
        vsw = 1.0 - 2.0 * ((rows // 2 + t.frame) % 2)
    elif t.standard == 2:
        keep_i = ((rows // 2 + t.frame) % 2).astype(np.float64)
        keep_q = 1.0 - keep_i
        quarter = 2 * (((rows // 2) % 3 == 2) != (t.frame % 2 == 1))
    cphi = np.select([quarter == 0, quarter == 2], [1.0, -1.0], 0.0)
    sphi = np.select([quarter == 1, quarter == 3], [1.0, -1.0], 0.0)
    ls = Stream(rand_init(t.seed_lines, rows))
    u_phase, u_loss, u_head, u_mid = ls.uniform(), ls.uniform(), ls.uniform(), ls.uniform()
    shift = t.edge_px * 2.5 * value_noise(t.seed_motion, rows * 0.08, field_time * 0.4)
    from_bottom = h - 1 - rows
    switch = (from_bottom == t.head_lines) & (t.head_px > 0.0)
    mid = np.where(
        switch, (w * (0.95 + t.head_mid_jitter * (2.0 * u_mid - 1.0))).astype(np.int64), w + kernels.PAD
    )
    mid_shift = np.where(switch, 0.25 * t.head_px, 0.0)
    frac = np.clip((t.head_lines - from_bottom) / t.head_lines, 0.0, None)
    head = t.head_px * (0.5 + 0.5 * frac) + t.head_jitter_px * frac * (u_head - 0.5)
    shift = shift + np.where(from_bottom < t.head_lines, head, 0.0)
    track = tracking_level(t, from_bottom, field_time) + band(rows, t.roll_row, t.roll_lines, t.roll_level)
    crease = band(rows, t.crease_row, t.crease_lines, t.crease_level)
    tear = (rows >= t.tear_row) & (t.tear_px != 0.0)
    torn = (from_bottom < t.head_lines) | (track > 0.0) | (crease > 0.0) | tear
    shift = shift + 10.0 * t.px * track * value_noise(t.seed_motion ^ 7, rows * 0.6, field_time * 3.0)
    shift = shift + 8.0 * t.px * crease * (2.0 * u_mid - 1.0) + np.where(rows >= t.tear_row, t.tear_px, 0.0)
    angle = (t.hue + t.phase_noise * (u_phase - 0.5) * math.sqrt(12.0)) * vsw
    if t.standard == 2:
        angle = np.zeros(h)
    pc, ps = np.cos(angle), np.sin(angle)
    chroma_gain = np.where(u_loss < t.chroma_loss_p, 0.0, 1.0 - t.clog)
    band_head = np.where((from_bottom < t.head_lines) & (t.head_px > 0.0), frac, 0.0)
    ln_gain = (t.luma_noise + 0.12 * track + 0.2 * crease + t.head_noise * band_head) * math.sqrt(
        (2.0 - t.a_luma_noise) / t.a_luma_noise
    )
    snow_p = t.snow_p + 0.04 * track + 0.08 * crease + 0.2 * t.head_noise * band_head
    dropout_p = t.dropout_p + 0.004 * track + 0.02 * crease
    cn_gain = t.chroma_noise * math.sqrt((2.0 - t.a_chroma_noise) / t.a_chroma_noise)
    cn_unit = math.sqrt((2.0 - t.a_comp_noise) / t.a_comp_noise)
    pn_gain = t.comp_noise * cn_unit
    row_key = rand_init(t.seed_samples, rows)
    out_y, out_i, out_q = np.empty_like(y), np.empty_like(i), np.empty_like(q)

    lead, lag = max(d, 0), max(-d, 0)
    start = max(-lead - t.preroll, -kernels.PAD)
    xs = start - shift
    y_first = sample_line(y, xs)
    i_in, q_in = sample_line(i, xs) * keep_i, sample_line(q, xs) * keep_q
    zero = np.zeros(h)
    cn, snow_c, snow_s, drop, drop_k, ln, ry1, ry2, ni, nq = (zero.copy() for _ in range(10))
    nx1 = nx2 = ny1 = ny2 = sm = l1 = l2 = l3 = sh = rx1 = rx2 = y_first
    di, dq = i_in, q_in
    i1 = i2 = i3 = i_in * pc - q_in * ps
    q1 = q2 = q3 = i_in * ps + q_in * pc
    fm_rest = t.fm_rest_r * keep_i + t.fm_rest_b * keep_q
    fm_gain = t.fm_gain_r * keep_i + t.fm_gain_b * keep_q
    pe = de = i_in + q_in
    fc, fs = np.ones(h), np.zeros(h)
    bs1, bs2, as1, as2, zr, zi, pr, pi, pp = (zero.copy() for _ in range(9))
    k = t.over
    for x, sub in ((x, sub) for x in range(start, w + lag) for sub in range(k)):
        xf = x + sub / k - shift - np.where(x >= mid, mid_shift, 0.0)
        seen = np.where(torn, np.clip(xf + 1.0, 0.0, 1.0), 1.0)
        y0 = seen * sample_line(y, xf)
        counter = u32((((x + kernels.PAD) * k + sub) * 0x9E3779B9) & M32)
        st = Stream(row_key ^ counter)
        h1, h2 = st.bits(), st.bits()
        u_event = st.uniform()
        i_in = i_in + t.a_i_in * (seen * keep_i * sample_line(i, xf) - i_in)
        q_in = q_in + t.a_q_in * (seen * keep_q * sample_line(q, xf) - q_in)
        phase = 2.0 * math.pi * carrier * (x * k + sub)
        c0, s0 = math.cos(phase), math.sin(phase)
        cs, sn = (c0 * cphi - s0 * sphi) * vsw, s0 * cphi + c0 * sphi
        if t.standard == 2:
            plane = i_in + q_in
            pe = pe + t.a_pre * (plane - pe)
            dphi = np.clip(fm_rest + fm_gain * (3.0 * plane - 2.0 * pe), t.fm_lo, t.fm_hi)
            d2 = dphi * dphi
            rc = 1.0 - d2 * (0.5 - d2 / 24.0)
            rs = dphi * (1.0 - d2 / 6.0)
            fc, fs = fc * rc - fs * rs, fc * rs + fs * rc
            fm = t.fm_amp * (cs * fc - sn * fs)
            bv = t.bl_b0 * fm + bs1
            bs1, bs2 = t.bl_b1 * fm - t.bl_a1 * bv + bs2, t.bl_b2 * fm - t.bl_a2 * bv
            comp = y0 + bv
        else:
            comp = y0 + i_in * cs + q_in * sn
        cn = cn + t.a_comp_noise * (half_noise(h1) - cn)
        comp = comp + pn_gain * cn
        if t.clog > 0.0:
            comp = comp + t.clog * (0.42 + 0.5 * cn_unit * cn - comp)
        event = u_event < snow_p
        amp = (st.uniform(event) - 0.5) * 1.2
        snow_c, snow_s = np.where(event, amp, snow_c), np.where(event, 0.0, snow_s)
        burst = (x == mid) & (sub == 0)
        snow_c, snow_s = np.where(burst, 0.5, snow_c), np.where(burst, 0.0, snow_s)
        snow_c, snow_s = (
            (snow_c * t.snow_cos - snow_s * t.snow_sin) * t.snow_decay,
            (snow_c * t.snow_sin + snow_s * t.snow_cos) * t.snow_decay,
        )
        comp = comp + snow_c
        event = 1.0 - u_event < dropout_p
        length = 1.0 + 7.0 * st.uniform(event)
        drop = np.where(event, 1.0, drop)
        drop_k = np.where(event, np.exp(-3.912 / (length * t.rate)), drop_k)
        on = drop > 0.0
        comp = np.where(on, comp + drop * (0.85 + 0.1 * st.unit(on) - comp), comp)
        drop = np.where(on, drop * drop_k, drop)
        drop = np.where(drop < 0.02, 0.0, drop)

        luma = t.n_b0 * comp + t.n_b1 * nx1 + t.n_b2 * nx2 - t.n_a1 * ny1 - t.n_a2 * ny2
        nx2, nx1, ny2, ny1 = nx1, comp, ny1, luma
        chroma = comp - luma
        if t.standard == 2:
            av = t.ab_b0 * chroma + as1
            as1, as2 = t.ab_b1 * chroma - t.ab_a1 * av + as2, t.ab_b2 * chroma - t.ab_a2 * av
            zr = zr + t.a_fm * (2.0 * av * cs + t.fm_noise * half_noise(h2) - zr)
            zi = zi + t.a_fm * (t.fm_noise * half_noise(h2 >> np.uint32(16)) - 2.0 * av * sn - zi)
            zz = zr * zr + zi * zi
            sine = (zi * pr - zr * pi) / np.sqrt(zz * pp + 1e-20)
            pr, pi, pp = zr, zi, zz
            turn = sine * (1.0 + sine**2 * (1.0 / 6.0 + sine**2 * 0.075))
            plane = (turn - fm_rest) / fm_gain
            de = de + t.a_de * (plane - de)
            di, dq = (plane + 2.0 * de) / 3.0 * keep_i, (plane + 2.0 * de) / 3.0 * keep_q
        else:
            di = di + t.a_demod * (2.0 * chroma * cs - di)
            dq = dq + t.a_demod * (2.0 * chroma * sn - dq)

        sm = sm + t.a_smear * (luma - sm)
        l1 = l1 + t.a_luma * (sm - l1)
        l2 = l2 + t.a_luma * (l1 - l2)
        l3 = l3 + t.a_luma * (l2 - l3)
        ln = ln + t.a_luma_noise * (half_noise(h1 >> np.uint32(16)) - ln)
        yv = l3 + ln_gain * ln
        sh = sh + t.a_sharp * (yv - sh)
        yv = yv + t.k_sharp * (yv - sh)
        rv = t.r_b0 * (yv - rx2) - t.r_a1 * ry1 - t.r_a2 * ry2
        rx2, rx1, ry2, ry1 = rx1, yv, ry1, rv
        yv = yv + t.k_ring * rv

        ci, cq = di * pc - dq * ps, di * ps + dq * pc
        ni = ni + t.a_chroma_noise * (half_noise(h2) - ni)
        nq = nq + t.a_chroma_noise * (half_noise(h2 >> np.uint32(16)) - nq)
        i1 = i1 + t.a_chroma * (ci + cn_gain * ni - i1)
        i2 = i2 + t.a_chroma * (i1 - i2)
        i3 = i3 + t.a_chroma * (i2 - i3)
        q1 = q1 + t.a_chroma * (cq + cn_gain * nq - q1)
        q2 = q2 + t.a_chroma * (q1 - q2)
        q3 = q3 + t.a_chroma * (q2 - q3)

        if sub == 0 and 0 <= x < w:
            out_y[:, x] = yv
        if sub == 0 and 0 <= x + d < w:
            out_i[:, x + d] = i3 * chroma_gain
            out_q[:, x + d] = q3 * chroma_gain
    return out_y, out_i, out_q


def play_out(y: np.ndarray, i: np.ndarray, q: np.ndarray, s: FrameSettings) -> np.ndarray:
    """Fields, vertical jitter, 1H chroma blend, tint/saturation, vignette -> float RGB."""
    p = play_struct(s)
    h, w = y.shape
    rows = np.arange(h)
    src = rows + p.jitter if p.fields == 0 else (rows // 2) * 2 + p.fields - 1 + p.jitter
    if p.roll > 0.0:
        src = np.mod(src - p.roll, h + p.blank)
    r0 = np.floor(src).astype(np.int64)
    frac = (src - r0)[:, None]
    inside = (r0 >= 0) & (r0 + 1 < h)
    last = r0 == h - 1
    rc = np.clip(r0, 0, h - 1)
    rn = np.clip(r0 + 1, 0, h - 1)
    ra = np.maximum(rc - 2, rc % 2)
    yv = np.where(inside[:, None], y[rc] + (y[rn] - y[rc]) * frac, np.where(last[:, None], y[rc], 0.0))
    keep = (inside | last)[:, None]
    blend = inside[:, None]
    wc = 1.0 if p.sequential else 0.5  # SECAM's delay line adds the other plane; PAL/NTSC average
    iv = np.where(blend, wc * (i[rc] + i[ra]), np.where(keep, i[rc], 0.0))
    qv = np.where(blend, wc * (q[rc] + q[ra]), np.where(keep, q[rc], 0.0))
    ti, tq = p.iq00 * iv + p.iq01 * qv, p.iq10 * iv + p.iq11 * qv
    rgb = np.einsum("kc,chw->hwk", signal.STANDARDS[s.standard].from_planes, np.stack([yv, ti, tq]))
    u = 2.0 * np.arange(w) / w - 1.0
    v = 2.0 * rows / h - 1.0
    shade = 1.0 - p.vignette * 0.5 * (u[None, :] ** 2 + v[:, None] ** 2)
    blue = np.array([0.06, 0.12, 0.72])
    return rgb * shade[..., None] * (1.0 - p.blue) + blue * p.blue


def to_planes(rgb: np.ndarray, standard: str = "ntsc") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Y and the standard's two chroma planes (YIQ for NTSC, YVU for PAL/SECAM)."""
    m = signal.STANDARDS[standard].to_planes
    planes = np.einsum("kc,hwc->khw", m, rgb[..., :3].astype(np.float64) / 255.0)
    return planes[0], planes[1], planes[2]


def decay_planes(rgb: np.ndarray, s: FrameSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The taped planes of an (H, W, 3|4) uint8 frame, before play-out (for measurements)."""
    planes = to_planes(rgb, s.standard)
    for generation in range(1 + s.generations):
        planes = tape_lines(*planes, tape_struct(s, generation, s.width), s.filters.carrier)
    return planes


def decay(rgb: np.ndarray, s: FrameSettings) -> np.ndarray:
    """The whole pass on an (H, W, 4) uint8 frame (OSD excluded); returns a new uint8 frame."""
    out = rgb.copy()
    linear = play_out(*decay_planes(rgb, s), s)
    out[..., :3] = np.clip(linear * 255.0 + 0.5, 0.0, 255.0).astype(np.uint8)
    return out
