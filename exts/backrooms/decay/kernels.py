"""Warp kernels of the tape: record (RGB -> YIQ), tape lines (the signal chain), play out (YIQ -> RGB).

The signal chain is row-recursive (causal IIR filters, as in a deck), so ``tape_lines`` runs one
thread per *segment* of a line: the thread starts ``warmup`` pixels before its segment and runs the
whole chain with every filter state in registers, so its output equals the serial result to within
``NOISE_RATIO`` (the block-overlap form of a parallel IIR). CPUs use one segment per line (no
warm-up, no redundant work); GPUs use 64-pixel segments, so a 720x480 frame has 5,760 threads
instead of 480. All randomness is counter-based on (stream seed, row, sample), so it does not depend
on how lines are cut into segments.
"""

from __future__ import annotations

import warp as wp

# The tape runs forward only (the adversarial mode differentiates a torch mirror), so skip adjoints:
# half the compile time.
wp.set_module_options({"enable_backward": False})

SQRT12 = wp.constant(3.4641016)  # unit variance from a uniform draw (filtering makes it Gaussian)
GOLDEN = wp.constant(wp.uint32(0x9E3779B9))  # spreads sample counters over the 32-bit key space
INV_255 = wp.constant(1.0 / 255.0)  # multiply: without fast-math a division stays a division
PAD = wp.constant(256)  # carrier table offset and per-row counter padding, in pixels (>= chroma delay)


@wp.struct
class Tape:
    width: int
    height: int
    segment: int
    warmup: int
    over: int  # samples per pixel
    frame: int
    seed_samples: int
    seed_lines: int
    seed_motion: int
    rate: float  # samples (not pixels) per microsecond
    px: float  # pixels per 720-px pixel
    a_i_in: float
    a_q_in: float
    n_b0: float
    n_b1: float
    n_b2: float
    n_a1: float
    n_a2: float
    a_demod: float
    a_smear: float
    a_luma: float
    a_sharp: float
    k_sharp: float
    r_b0: float
    r_a1: float
    r_a2: float
    k_ring: float
    a_chroma: float
    chroma_delay: int
    hue: float
    phase_noise: float
    chroma_loss_p: float
    luma_noise: float
    a_luma_noise: float
    chroma_noise: float
    a_chroma_noise: float
    comp_noise: float
    a_comp_noise: float
    snow_p: float
    snow_decay: float
    snow_cos: float
    snow_sin: float
    dropout_p: float
    head_lines: int
    head_px: float
    head_jitter_px: float
    head_mid_jitter: float
    head_noise: float  # extra luma grain at the bottom line of the switching band
    tracking: float
    tracking_lines: int
    edge_px: float
    roll_row: float  # travelling noise band of a tracking roll: centre row, half height, strength
    roll_lines: float
    roll_level: float
    crease_row: float  # a crease's line of damage
    crease_lines: float
    crease_level: float
    tear_row: int  # pause/record-resume: lines from here down are torn sideways by tear_px
    tear_px: float
    clog: float  # 0..1: the picture replaced by snow (clogged head, no signal)
    standard: int  # 0 NTSC, 1 PAL, 2 SECAM (signal.STANDARDS)
    # SECAM's FM colour, angles in radians per sample off the subcarrier table's frequency:
    fm_rest_r: float  # rest frequency of the D'R (first plane) and D'B (second plane) lines
    fm_rest_b: float
    fm_gain_r: float  # deviation per unit of the line's plane
    fm_gain_b: float
    fm_lo: float  # the modulator's frequency limits
    fm_hi: float
    fm_amp: float  # subcarrier amplitude at the bell's centre
    bl_b0: float  # the recorded "cloche" (bell)
    bl_b1: float
    bl_b2: float
    bl_a1: float
    bl_a2: float
    ab_b0: float  # the receiver's anti-bell
    ab_b1: float
    ab_b2: float
    ab_a1: float
    ab_a2: float
    a_fm: float  # the colour channel around the subcarrier (a low-pass on the mixed-down signal)
    a_pre: float  # video pre-emphasis (255 kHz) and de-emphasis (85 kHz) poles
    a_de: float
    fm_noise: float  # the tape's noise in that channel, before the discriminator: fire
    preroll: int  # pixels the FM colour runs before the line so its filters have settled


@wp.struct
class Play:
    width: int
    height: int
    fields: int  # 0 both, 1 upper only, 2 lower only (line-doubled)
    jitter: float  # vertical offset in lines
    iq00: float  # 2x2 tint/saturation matrix on (I, Q)
    iq01: float
    iq10: float
    iq11: float
    vignette: float
    roll: float  # vertical roll: lines the picture has slipped down through its blanking bar
    blank: int  # lines of the black vertical-blanking bar that rolls through
    blue: float  # 0..1 the deck's blue screen (no signal)
    r1: float  # the standard's chroma planes -> RGB: R = Y + r1 C1 + r2 C2, ...
    r2: float
    g1: float
    g2: float
    b1: float
    b2: float
    sequential: int  # SECAM: each line carries one chroma plane, the delay line adds the other


@wp.func
def lattice(seed: int, i: int, j: int) -> float:
    s = wp.rand_init(seed, i)
    s = wp.rand_init(int(s & wp.uint32(0x7FFFFFFF)), j)
    return 2.0 * wp.randf(s) - 1.0


@wp.func
def value_noise(seed: int, u: float, v: float) -> float:
    """Smooth noise in [-1, 1] over (u, v): stateless, so any frame and row can be made alone."""
    fu = wp.floor(u)
    fv = wp.floor(v)
    i = int(fu)
    j = int(fv)
    tu = u - fu
    tv = v - fv
    su = tu * tu * (3.0 - 2.0 * tu)
    sv = tv * tv * (3.0 - 2.0 * tv)
    a = wp.lerp(lattice(seed, i, j), lattice(seed, i + 1, j), su)
    b = wp.lerp(lattice(seed, i, j + 1), lattice(seed, i + 1, j + 1), su)
    return wp.lerp(a, b, sv)


@wp.func
def osd_glyph(
    px: int,
    py: int,
    lines: wp.array2d(dtype=int),
    glyphs: wp.array(dtype=int),
    font: wp.array2d(dtype=int),
    layer: int,
) -> int:
    """1 + the OSD line whose glyph of ``layer`` covers pixel (px, py); 0 where none does."""
    hit = wp.int32(0)
    for k in range(lines.shape[0]):
        count = lines[k, 4]
        if lines[k, 5] == layer and count > 0:
            sc = lines[k, 2]
            lx = px - lines[k, 0]
            ly = py - lines[k, 1]
            if lx >= 0 and ly >= 0 and ly < 7 * sc and lx < 6 * sc * count:
                cx = lx // sc
                cy = ly // sc
                ch = cx // 6
                gx = cx - ch * 6
                if gx < 5:
                    g = glyphs[lines[k, 3] + ch]
                    if ((font[g, cy] >> (4 - gx)) & 1) == 1:
                        hit = k + 1
    return hit


@wp.func
def osd_cover(
    px: int,
    py: int,
    lines: wp.array2d(dtype=int),
    glyphs: wp.array(dtype=int),
    font: wp.array2d(dtype=int),
    layer: int,
) -> int:
    """0 clear, 1 drop shadow (the glyph one font pixel up-left), 2 + k a glyph of OSD line k."""
    hit = osd_glyph(px, py, lines, glyphs, font, layer)
    if hit > 0:
        return hit + 1
    sc = wp.max(lines[0, 2], 1)
    if osd_glyph(px - sc, py - sc, lines, glyphs, font, layer) > 0:
        return 1
    return 0


@wp.func
def osd_row(row: int, on: int, lines: wp.array2d(dtype=int), layer: int) -> int:
    """1 if layer ``layer`` is on and any of its text (or shadow) crosses ``row``: the per-pixel
    glyph test then runs only on the few rows that need it."""
    hit = wp.int32(0)
    if ((on >> layer) & 1) == 1:
        for k in range(lines.shape[0]):
            sc = lines[k, 2]
            if lines[k, 5] == layer and lines[k, 4] > 0 and row >= lines[k, 1] and row < lines[k, 1] + 8 * sc:
                hit = 1
    return hit


@wp.func
def osd_colour(lines: wp.array2d(dtype=int), cover: int, channel: int) -> float:
    """Channel 0/1/2 of the colour (packed 0xRRGGBB) of the OSD line a cover code names."""
    return float((lines[cover - 2, 6] >> (16 - 8 * channel)) & 255) * INV_255


@wp.func
def run_bounds(tid: int, width: int, run: int) -> wp.vec3i:
    """(row, first x, end x) of a thread that covers ``run`` pixels of one row."""
    runs = (width + run - 1) // run
    row = tid // runs
    x0 = (tid - row * runs) * run
    return wp.vec3i(row, x0, wp.min(x0 + run, width))


@wp.kernel
def record(
    rgb: wp.array3d(dtype=wp.uint8),
    to_planes: wp.mat33,
    run: int,
    osd_on: int,
    lines: wp.array2d(dtype=int),
    glyphs: wp.array(dtype=int),
    font: wp.array2d(dtype=int),
    first: int,
    y_out: wp.array2d(dtype=float),
    i_out: wp.array2d(dtype=float),
    q_out: wp.array2d(dtype=float),
):
    """sRGB bytes -> YIQ, with the camcorder's date stamp burned in before the tape.

    Each thread covers ``run`` pixels of a row: whole rows on CPUs (no per-pixel launch cost),
    single pixels on GPUs; ``first`` offsets the thread ids of one band of a split launch.
    """
    span = run_bounds(wp.tid() + first, rgb.shape[1], run)
    row = span[0]
    osd_here = osd_row(row, osd_on, lines, 0)
    for x in range(span[1], span[2]):
        r = float(rgb[row, x, 0]) * INV_255
        g = float(rgb[row, x, 1]) * INV_255
        b = float(rgb[row, x, 2]) * INV_255
        if osd_here == 1:
            cover = osd_cover(x, row, lines, glyphs, font, 0)
            if cover >= 2:
                r = osd_colour(lines, cover, 0)
                g = osd_colour(lines, cover, 1)
                b = osd_colour(lines, cover, 2)
            elif cover == 1:
                r = 0.0
                g = 0.0
                b = 0.0
        y_out[row, x] = to_planes[0, 0] * r + to_planes[0, 1] * g + to_planes[0, 2] * b
        i_out[row, x] = to_planes[1, 0] * r + to_planes[1, 1] * g + to_planes[1, 2] * b
        q_out[row, x] = to_planes[2, 0] * r + to_planes[2, 1] * g + to_planes[2, 2] * b


@wp.func
def half_noise(bits: wp.uint32) -> float:
    """Zero-mean, unit-variance noise from 16 random bits (plenty once the noise is filtered)."""
    return (float(bits) * (1.0 / 65536.0) - 0.5) * SQRT12


@wp.func
def sample_line(src: wp.array2d(dtype=float), row: int, xf: float, width: int) -> float:
    """Linear interpolation along a line, holding the edge samples."""
    fx = wp.floor(xf)
    x0 = wp.clamp(int(fx), 0, width - 1)
    x1 = wp.clamp(int(fx) + 1, 0, width - 1)
    return wp.lerp(src[row, x0], src[row, x1], xf - fx)


@wp.func
def band(row: int, centre: float, half: float, level: float) -> float:
    """0..level: a band of lines around ``centre`` (a tracking roll, a crease), strongest in the middle."""
    if level <= 0.0:
        return 0.0
    d = wp.abs(float(row) - centre) / half
    if d >= 1.0:
        return 0.0
    return level * (1.0 - d) * (1.0 - d)


@wp.func
def line_shift(
    t: Tape, row: int, field_time: float, u_head: float, u_mid: float, track: float, crease: float
) -> float:
    """Horizontal timing error of a line: edge wave, head switching, tracking bands, crease, tear."""
    shift = t.edge_px * 2.5 * value_noise(t.seed_motion, float(row) * 0.08, field_time * 0.4)
    from_bottom = t.height - 1 - row
    if from_bottom < t.head_lines:
        frac = float(t.head_lines - from_bottom) / float(t.head_lines)
        shift += t.head_px * (0.5 + 0.5 * frac) + t.head_jitter_px * frac * (u_head - 0.5)
    if track > 0.0:
        shift += 10.0 * t.px * track * value_noise(t.seed_motion ^ 7, float(row) * 0.6, field_time * 3.0)
    if crease > 0.0:
        shift += 8.0 * t.px * crease * (2.0 * u_mid - 1.0)
    if row >= t.tear_row:
        shift += t.tear_px
    return shift


@wp.func
def tracking_level(t: Tape, from_bottom: int, field_time: float) -> float:
    """0..tracking: strongest at the bottom line, breathing slowly over time."""
    if from_bottom >= t.tracking_lines or t.tracking <= 0.0:
        return 0.0
    edge = 1.0 - float(from_bottom) / float(t.tracking_lines)
    return t.tracking * edge * edge * (0.7 + 0.3 * value_noise(t.seed_motion ^ 13, field_time * 0.02, 0.5))


@wp.kernel
def tape_lines(
    src_y: wp.array2d(dtype=float),
    src_i: wp.array2d(dtype=float),
    src_q: wp.array2d(dtype=float),
    carrier: wp.array2d(dtype=float),
    t: Tape,
    first: int,
    dst_y: wp.array2d(dtype=float),
    dst_i: wp.array2d(dtype=float),
    dst_q: wp.array2d(dtype=float),
):
    """One record/playback pass over one segment of one line (see the module docstring)."""
    tid = wp.tid() + first
    w = t.width
    nseg = (w + t.segment - 1) // t.segment
    row = tid // nseg
    x0 = (tid - row * nseg) * t.segment
    x1 = wp.min(x0 + t.segment, w)
    d = t.chroma_delay
    lead = wp.max(d, 0)  # chroma written d pixels right of where it is computed: start earlier
    lag = wp.max(-d, 0)  # or left of it: run on past the segment
    start = wp.max(wp.max(x0 - t.warmup - lead, -lead) - t.preroll, -PAD)

    # Per line: timing, colour phase, chroma loss, extra noise in the tracking band.
    field_time = float(2 * t.frame + row % 2)
    # The subcarrier's phase at the line start in quarter turns (NTSC: half a turn a line; PAL:
    # three quarters, counted in time order over both fields), PAL's V switch, SECAM's one plane.
    quarter = 2 * ((row + t.frame) % 2)
    vsw = 1.0
    keep_i = 1.0
    keep_q = 1.0
    if t.standard == 1:
        n4 = row // 2 + (row % 2) * (t.height // 2) + (t.frame % 4) * t.height
        quarter = (3 * n4) % 4
        vsw = 1.0 - 2.0 * float((row // 2 + t.frame) % 2)
    elif t.standard == 2:
        keep_i = float((row // 2 + t.frame) % 2)
        keep_q = 1.0 - keep_i
        quarter = 0  # the subcarrier's phase flips on every third line and on odd frames
        if ((row // 2) % 3 == 2) != (t.frame % 2 == 1):
            quarter = 2
    cphi = 0.0
    sphi = 0.0
    if quarter == 0:
        cphi = 1.0
    elif quarter == 1:
        sphi = 1.0
    elif quarter == 2:
        cphi = -1.0
    else:
        sphi = -1.0
    ls = wp.rand_init(t.seed_lines, row)
    u_phase = wp.randf(ls)
    u_loss = wp.randf(ls)
    u_head = wp.randf(ls)
    u_mid = wp.randf(ls)
    from_bottom = t.height - 1 - row
    track = tracking_level(t, from_bottom, field_time) + band(row, t.roll_row, t.roll_lines, t.roll_level)
    crease = band(row, t.crease_row, t.crease_lines, t.crease_level)
    shift = line_shift(t, row, field_time, u_head, u_mid, track, crease)
    # The line where the heads swap tears part-way along, with a burst of noise at the switch.
    mid = w + PAD
    mid_shift = 0.0
    if t.height - 1 - row == t.head_lines and t.head_px > 0.0:
        mid = int(float(w) * (0.95 + t.head_mid_jitter * (2.0 * u_mid - 1.0)))
        mid_shift = 0.25 * t.head_px
    # A phase error turns hue (NTSC), turns it the other way on V-switched lines (PAL), or does
    # nothing to FM colour (SECAM).
    angle = (t.hue + t.phase_noise * (u_phase - 0.5) * SQRT12) * vsw
    if t.standard == 2:
        angle = 0.0
    pc = wp.cos(angle)
    ps = wp.sin(angle)
    chroma_gain = 1.0 - t.clog  # the chroma killer mutes colour as the signal turns to snow
    if u_loss < t.chroma_loss_p:
        chroma_gain = 0.0
    torn = (
        from_bottom < t.head_lines or track > 0.0 or crease > 0.0 or (row >= t.tear_row and t.tear_px != 0.0)
    )
    head = 0.0  # the switching band is noisy as well as torn, worst at the bottom
    if from_bottom < t.head_lines and t.head_px > 0.0:
        head = float(t.head_lines - from_bottom) / float(t.head_lines)
    luma_noise = t.luma_noise + 0.12 * track + 0.2 * crease + t.head_noise * head
    snow_p = t.snow_p + 0.04 * track + 0.08 * crease + 0.2 * t.head_noise * head
    dropout_p = t.dropout_p + 0.004 * track + 0.02 * crease  # the bands' long white streaks
    ln_gain = luma_noise * wp.sqrt((2.0 - t.a_luma_noise) / t.a_luma_noise)
    cn_gain = t.chroma_noise * wp.sqrt((2.0 - t.a_chroma_noise) / t.a_chroma_noise)
    cn_unit = wp.sqrt((2.0 - t.a_comp_noise) / t.a_comp_noise)  # the composite noise at unit rms
    pn_gain = t.comp_noise * cn_unit
    row_key = wp.rand_init(t.seed_samples, row)
    inv_k = 1.0 / float(t.over)

    # Start every filter in the steady state of the first sample, as if the line had held it.
    xs = float(start) - shift
    y_first = sample_line(src_y, row, xs, w)
    i_in = sample_line(src_i, row, xs, w) * keep_i
    q_in = sample_line(src_q, row, xs, w) * keep_q
    cn = wp.float32(0.0)
    snow_c = wp.float32(0.0)
    snow_s = wp.float32(0.0)
    drop = wp.float32(0.0)
    drop_k = wp.float32(0.0)
    nx1 = y_first
    nx2 = y_first
    ny1 = y_first
    ny2 = y_first
    di = i_in
    dq = q_in
    sm = y_first
    l1 = y_first
    l2 = y_first
    l3 = y_first
    ln = wp.float32(0.0)
    sh = y_first
    rx1 = y_first
    rx2 = y_first
    ry1 = wp.float32(0.0)
    ry2 = wp.float32(0.0)
    ni = wp.float32(0.0)
    nq = wp.float32(0.0)
    i1 = i_in * pc - q_in * ps
    i2 = i1
    i3 = i1
    q1 = i_in * ps + q_in * pc
    q2 = q1
    q3 = q1
    # SECAM: the line's plane, its rest frequency and deviation; the modulator's phase (a unit
    # phasor turned by the deviation each sample), bell, anti-bell and discriminator states.
    fm_rest = t.fm_rest_r * keep_i + t.fm_rest_b * keep_q
    fm_gain = t.fm_gain_r * keep_i + t.fm_gain_b * keep_q
    pe = i_in + q_in
    de = pe
    fc = wp.float32(1.0)
    fs = wp.float32(0.0)
    bs1 = wp.float32(0.0)
    bs2 = wp.float32(0.0)
    as1 = wp.float32(0.0)
    as2 = wp.float32(0.0)
    zr = wp.float32(0.0)
    zi = wp.float32(0.0)
    pr = wp.float32(0.0)
    pi = wp.float32(0.0)
    pp = wp.float32(0.0)
    k = t.over
    x = start
    sub = wp.int32(0)
    for _s in range((x1 + lag - start) * k):
        xf = float(x) + float(sub) * inv_k - shift
        if x >= mid:
            xf -= mid_shift
        fx = wp.floor(xf)
        fr = xf - fx
        a0 = wp.clamp(int(fx), 0, w - 1)
        a1 = wp.clamp(int(fx) + 1, 0, w - 1)
        # Lines torn by head switching or mistracking expose the blanking (black) at their start.
        seen = 1.0
        if torn:
            seen = wp.clamp(xf + 1.0, 0.0, 1.0)
        y0 = seen * wp.lerp(src_y[row, a0], src_y[row, a1], fr)
        # Counter-based noise for this sample: two 32-bit draws give four 16-bit uniforms, a third
        # decides the rare events (snow, dropouts), which draw more only when they happen.
        st = row_key ^ (wp.uint32((x + PAD) * k + sub) * GOLDEN)
        h1 = wp.randu(st)
        h2 = wp.randu(st)
        u_event = wp.randf(st)

        # Record: band-limit chroma, modulate it onto the subcarrier, add the tape's disturbances.
        i_in += t.a_i_in * (seen * keep_i * wp.lerp(src_i[row, a0], src_i[row, a1], fr) - i_in)
        q_in += t.a_q_in * (seen * keep_q * wp.lerp(src_q[row, a0], src_q[row, a1], fr) - q_in)
        c0 = carrier[(x + PAD) * k + sub, 0]
        s0 = carrier[(x + PAD) * k + sub, 1]
        cs = (c0 * cphi - s0 * sphi) * vsw
        sn = s0 * cphi + c0 * sphi
        comp = wp.float32(0.0)
        if t.standard == 2:
            # SECAM: the pre-emphasised colour difference sets the frequency, within the limits;
            # the phasor turns by the deviation (Taylor terms: its length drifts < 1e-5 a line).
            plane = i_in + q_in
            pe += t.a_pre * (plane - pe)
            dphi = wp.clamp(fm_rest + fm_gain * (3.0 * plane - 2.0 * pe), t.fm_lo, t.fm_hi)
            d2 = dphi * dphi
            rc = 1.0 - d2 * (0.5 - d2 * (1.0 / 24.0))
            rs = dphi * (1.0 - d2 * (1.0 / 6.0))
            f_next = fc * rc - fs * rs
            fs = fc * rs + fs * rc
            fc = f_next
            fm = t.fm_amp * (cs * fc - sn * fs)
            bv = t.bl_b0 * fm + bs1  # transposed direct form II: two states
            bs1 = t.bl_b1 * fm - t.bl_a1 * bv + bs2
            bs2 = t.bl_b2 * fm - t.bl_a2 * bv
            comp = y0 + bv
        else:
            comp = y0 + i_in * cs + q_in * sn
        cn += t.a_comp_noise * (half_noise(h1 & wp.uint32(0xFFFF)) - cn)
        comp += pn_gain * cn
        if t.clog > 0.0:
            comp += t.clog * (0.42 + 0.5 * cn_unit * cn - comp)
        if u_event < snow_p:
            snow_c = (wp.randf(st) - 0.5) * 1.2
            snow_s = 0.0
        if x == mid and sub == 0:
            snow_c = 0.5
            snow_s = 0.0
        sc_next = (snow_c * t.snow_cos - snow_s * t.snow_sin) * t.snow_decay
        snow_s = (snow_c * t.snow_sin + snow_s * t.snow_cos) * t.snow_decay
        snow_c = sc_next
        comp += snow_c
        if 1.0 - u_event < dropout_p:
            drop = 1.0
            drop_k = wp.exp(-3.912 / ((1.0 + 7.0 * wp.randf(st)) * t.rate))  # 2 % after 1-8 us
        if drop > 0.0:
            comp += drop * (0.85 + 0.1 * (wp.randf(st) - 0.5) * SQRT12 - comp)
            drop *= drop_k
            if drop < 0.02:
                drop = 0.0

        # Play back: trap the subcarrier out of luma, demodulate what it trapped.
        luma = t.n_b0 * comp + t.n_b1 * nx1 + t.n_b2 * nx2 - t.n_a1 * ny1 - t.n_a2 * ny2
        nx2 = nx1
        nx1 = comp
        ny2 = ny1
        ny1 = luma
        chroma = comp - luma
        if t.standard == 2:
            # SECAM: anti-bell, mix down to the channel around the subcarrier, add the tape's noise
            # there, and read the frequency as the turn between samples (a limiter-discriminator:
            # the sine of the turn, whatever the amplitude). Where noise swamps the carrier, the
            # phasor slips a whole turn: a click, fire.
            av = t.ab_b0 * chroma + as1
            as1 = t.ab_b1 * chroma - t.ab_a1 * av + as2
            as2 = t.ab_b2 * chroma - t.ab_a2 * av
            zr += t.a_fm * (2.0 * av * cs + t.fm_noise * half_noise(h2 & wp.uint32(0xFFFF)) - zr)
            zi += t.a_fm * (t.fm_noise * half_noise(h2 >> wp.uint32(16)) - 2.0 * av * sn - zi)
            zz = zr * zr + zi * zi
            sine = (zi * pr - zr * pi) / wp.sqrt(zz * pp + 1e-20)
            pr = zr
            pi = zi
            pp = zz
            s2 = sine * sine
            turn = sine * (1.0 + s2 * (1.0 / 6.0 + s2 * 0.075))  # arcsin, to fifth order
            plane = (turn - fm_rest) / fm_gain
            de += t.a_de * (plane - de)
            di = (plane + 2.0 * de) * (1.0 / 3.0) * keep_i
            dq = (plane + 2.0 * de) * (1.0 / 3.0) * keep_q
        else:
            di += t.a_demod * (2.0 * chroma * cs - di)
            dq += t.a_demod * (2.0 * chroma * sn - dq)

        # Luma: smear, the tape's bandwidth, grain, playback peaking and ringing.
        sm += t.a_smear * (luma - sm)
        l1 += t.a_luma * (sm - l1)
        l2 += t.a_luma * (l1 - l2)
        l3 += t.a_luma * (l2 - l3)
        ln += t.a_luma_noise * (half_noise(h1 >> wp.uint32(16)) - ln)
        yv = l3 + ln_gain * ln
        sh += t.a_sharp * (yv - sh)
        yv += t.k_sharp * (yv - sh)
        rv = t.r_b0 * (yv - rx2) - t.r_a1 * ry1 - t.r_a2 * ry2
        rx2 = rx1
        rx1 = yv
        ry2 = ry1
        ry1 = rv
        yv += t.k_ring * rv

        # Chroma: phase error and jitter, colour noise, the colour-under bandwidth.
        ci = di * pc - dq * ps
        cq = di * ps + dq * pc
        ni += t.a_chroma_noise * (half_noise(h2 & wp.uint32(0xFFFF)) - ni)
        nq += t.a_chroma_noise * (half_noise(h2 >> wp.uint32(16)) - nq)
        i1 += t.a_chroma * (ci + cn_gain * ni - i1)
        i2 += t.a_chroma * (i1 - i2)
        i3 += t.a_chroma * (i2 - i3)
        q1 += t.a_chroma * (cq + cn_gain * nq - q1)
        q2 += t.a_chroma * (q1 - q2)
        q3 += t.a_chroma * (q2 - q3)

        if sub == 0:
            if x >= x0 and x < x1:
                dst_y[row, x] = yv
            xd = x + d
            if xd >= x0 and xd < x1:
                dst_i[row, xd] = i3 * chroma_gain
                dst_q[row, xd] = q3 * chroma_gain
        sub += 1
        if sub == k:
            sub = 0
            x += 1


@wp.kernel
def play_out(
    y_in: wp.array2d(dtype=float),
    i_in: wp.array2d(dtype=float),
    q_in: wp.array2d(dtype=float),
    p: Play,
    run: int,
    osd_on: int,
    lines: wp.array2d(dtype=int),
    glyphs: wp.array(dtype=int),
    font: wp.array2d(dtype=int),
    first: int,
    rgb: wp.array3d(dtype=wp.uint8),
):
    """Fields, vertical jitter, 1H chroma averaging, tint/saturation, vignette, deck OSD -> sRGB bytes."""
    span = run_bounds(wp.tid() + first, p.width, run)
    row = span[0]
    src = float(row) + p.jitter
    if p.fields != 0:
        src = float((row // 2) * 2 + p.fields - 1) + p.jitter
    if p.roll > 0.0:
        period = float(p.height + p.blank)  # the picture and its blanking bar slip by together
        src = src - p.roll
        src = src - period * wp.floor(src / period)
    fr = wp.floor(src)
    r0 = int(fr)
    frac = src - fr
    # Rows to read: the line (and the next, for sub-line jitter) and, for chroma, the previous line
    # of the same field (the deck's 1H delay line averages them). Off-frame lines are black.
    inside = r0 >= 0 and r0 + 1 < p.height
    last = r0 == p.height - 1
    rc = wp.clamp(r0, 0, p.height - 1)
    rn = wp.min(rc + 1, p.height - 1)
    ra = wp.max(rc - 2, rc % 2)
    wy0 = 0.0
    wy1 = 0.0
    wc0 = 0.0
    wc1 = 0.0
    if inside:
        wy0 = 1.0 - frac
        wy1 = frac
        wc0 = 0.5
        wc1 = 0.5
        if p.sequential == 1:
            wc0 = 1.0
            wc1 = 1.0
    elif last:
        wy0 = 1.0
        wc0 = 1.0
    v = 2.0 * float(row) / float(p.height) - 1.0
    du = 2.0 / float(p.width)
    osd_here = osd_row(row, osd_on, lines, 1)
    for x in range(span[1], span[2]):
        yv = wy0 * y_in[rc, x] + wy1 * y_in[rn, x]
        iv = wc0 * i_in[rc, x] + wc1 * i_in[ra, x]
        qv = wc0 * q_in[rc, x] + wc1 * q_in[ra, x]
        ti = p.iq00 * iv + p.iq01 * qv
        tq = p.iq10 * iv + p.iq11 * qv
        u = float(x) * du - 1.0
        shade = 1.0 - p.vignette * 0.5 * (u * u + v * v)
        r = (yv + p.r1 * ti + p.r2 * tq) * shade
        g = (yv + p.g1 * ti + p.g2 * tq) * shade
        b = (yv + p.b1 * ti + p.b2 * tq) * shade
        r = wp.lerp(r, 0.06, p.blue)
        g = wp.lerp(g, 0.12, p.blue)
        b = wp.lerp(b, 0.72, p.blue)
        if osd_here == 1:
            cover = osd_cover(x, row, lines, glyphs, font, 1)
            if cover >= 2:
                r = osd_colour(lines, cover, 0)
                g = osd_colour(lines, cover, 1)
                b = osd_colour(lines, cover, 2)
            elif cover == 1:
                r = 0.05
                g = 0.05
                b = 0.05
        rgb[row, x, 0] = wp.uint8(wp.clamp(r * 255.0 + 0.5, 0.0, 255.0))
        rgb[row, x, 1] = wp.uint8(wp.clamp(g * 255.0 + 0.5, 0.0, 255.0))
        rgb[row, x, 2] = wp.uint8(wp.clamp(b * 255.0 + 0.5, 0.0, 255.0))
