"""``Camcorder``: owns the camcorder's device buffers for one frame size and launches its kernels."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import warp as wp

from backrooms.camcorder import metering, optics, sensor, shutter, tone
from backrooms.camcorder.exposure import Automatics, Meter
from backrooms.camcorder.fields import field_offset
from backrooms.launch import Bands
from backrooms.render.kernels import srgb_table

REFERENCE_WIDTH = 320.0  # pixel sizes of blur and fringes are given at this width and scaled


def gaussian(sigma: float) -> np.ndarray:
    radius = max(1, math.ceil(2.5 * sigma))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


class Camcorder:
    """The camcorder for one frame size on one device.

    ``meter`` reads a frame's light (and leaves it decoded in ``lin``); ``spill`` and ``expose``
    film it with the automatics' settings and the knobs and write the result back into ``rgb``.
    """

    def __init__(self, width: int, height: int, device: str = "cpu") -> None:
        self.width, self.height, self.device = width, height, device
        quarter = (-(-height // sensor.QUARTER), -(-width // sensor.QUARTER))
        self.lin = wp.zeros((height, width), dtype=wp.vec3, device=device)
        self.bright = wp.zeros(quarter, dtype=wp.vec3, device=device)
        self.bloom = wp.zeros(quarter, dtype=wp.vec3, device=device)
        self.smear = wp.zeros(quarter[1], dtype=wp.vec3, device=device)
        self.stats = wp.zeros(
            (metering.BLOCKS_Y * metering.BLOCKS_X, metering.STATS), dtype=float, device=device
        )
        self.table = wp.array(tone.decode_table(), dtype=float, device=device)
        self.srgb = wp.array(srgb_table(), dtype=wp.uint8, device=device)
        self.blur_weights = wp.array(gaussian(sensor.BLOOM_SIGMA), dtype=float, device=device)
        self.weights = metering.centre_weights()
        self.scale = width / REFERENCE_WIDTH
        # the full-size passes run as bands of rows, one per core, on the CPU
        self.bands = Bands(device, name="camcorder", rows=height)

    def _full_size(self, kernel: wp.Kernel, inputs: list, output: wp.array) -> None:
        """Launch a per-pixel kernel over the frame (its last input is the band's first row)."""
        self.bands.launch_split(kernel, self.height, inputs, [output], self.width)

    def meter(self, rgb: wp.array, depth: wp.array, values: dict[str, Any]) -> Meter:
        """Decode ``rgb`` to the light the lens lays on the sensor and meter it (one small read-back)."""
        lens = [rgb, self.table, values["vignette"], values["aberration"] / 100.0]
        self._full_size(optics.decode, lens, self.lin)
        blocks = (metering.BLOCKS_Y, metering.BLOCKS_X)
        wp.launch(
            metering.meter_blocks,
            blocks,
            [self.lin, depth, optics.NEAREST_M],
            [self.stats],
            device=self.device,
        )
        return metering.read_meter(self.stats.numpy(), self.weights)

    def spill(self, ev: float) -> None:
        """The highlights at exposure ``ev``: their column averages (smear) and their halo (bloom)."""
        quarter = self.bright.shape
        gain = 2.0**ev
        wp.launch(sensor.highlights, quarter, [self.lin, gain], [self.bright], device=self.device)
        wp.launch(sensor.smear_columns, quarter[1], [self.bright], [self.smear], device=self.device)
        w = self.blur_weights
        wp.launch(sensor.blur_line, quarter, [self.bright, w, 1, 0], [self.bloom], device=self.device)
        wp.launch(sensor.blur_line, quarter, [self.bloom, w, 0, 1], [self.bright], device=self.device)

    def expose(
        self,
        auto: Automatics,
        values: dict[str, Any],
        depth: wp.array,
        motion: wp.array,
        fps: float,
        seed: int,
        rgb: wp.array,
    ) -> None:
        """Expose the metered frame with ``auto``'s settings and the knobs ``values`` into ``rgb``
        (after ``spill`` at the same exposure)."""
        e = shutter.Exposure()
        e.aperture = values["blur"] * optics.COC_PER_DIOPTER * self.scale
        e.widest = optics.MAX_COC * self.scale
        e.focus = auto.focus
        e.shutter = values["shutter"] * fps
        e.field_offset = field_offset(fps, values["interlace"])
        r = sensor.Readout()
        r.gain = 2.0**auto.ev
        r.agc = max(r.gain, 1.0)
        r.bloom = values["bloom"] * sensor.BLOOM_GAIN
        r.smear = values["smear"] * sensor.SMEAR_GAIN
        r.noise = values["gain_noise"]
        r.wb = wp.vec3(*auto.wb)
        r.seed = seed
        halo = self.bright  # the highlights, blurred by spill()
        inputs = [self.lin, depth, motion, e, halo, self.smear, r, self.srgb]
        self._full_size(sensor.develop, inputs, rgb)
