"""The render product: named device buffers for one camera and one frame.

Buffer names, shapes and units follow Omniverse Replicator's annotators so that the Kit host can
hand RTX annotator output to the same nodes:

=================== ============ ========= ====================================================
name                Replicator   dtype     shape, meaning
=================== ============ ========= ====================================================
``rgb``             LdrColor     uint8     (H, W, 4) sRGB-encoded RGBA, alpha 255
``distance_to_camera`` distance_to_camera float32 (H, W) metres from the camera centre; inf for misses
``normals``         normals      float32   (H, W, 4) world-space unit normal xyz, w = 1 on hits
``motion_vectors``  motion_vectors float32 (H, W, 4) xy: pixels moved since the previous frame
                                           (x right, y down; previous position = p - xy);
                                           zw unused (0)
``instance_id``     instance_id  uint32    (H, W) the instance's stable key (``InstanceSet.key``, a
                                           hash of its cell or prim path; 0 is written as 1),
                                           0 for background
``disocclusion``    (ours)       uint8     (H, W) 1 where the pixel was not visible last frame
``radiance``        (ours)       float32   (H, W, 3) the renderer's linear light before exposure and
                                           tone mapping (``rgb`` is made from it); below full
                                           ``render.scale`` only in ``meta["internal"]``
``traced``          (ours)       uint8     (H, W) on a frame the diffusion node generates: 1 where
                                           the render node traced the pixel after all (its view
                                           lay outside the key frame's) and the node kept the trace
=================== ============ ========= ====================================================

After the ``camcorder`` node, ``rgb`` is interlaced when ``camcorder.interlace`` is on: even rows are
the upper field at the frame's time, odd rows the lower field 1/60 s later (the frame moved along
``motion_vectors``). The decay node's ``fields`` knob picks one field or plays both. The
camcorder's settings of the frame (exposure, white balance, focus) are in ``meta["camcorder"]``.
The decay node writes the frame's tape events as ``meta["tape_events"]`` = {event name: strength
in (0, 1]} (docs/decay.md), for nodes after it (audio).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import warp as wp

RGB = "rgb"
DEPTH = "distance_to_camera"
NORMALS = "normals"
MOTION_VECTORS = "motion_vectors"
INSTANCE_ID = "instance_id"
DISOCCLUSION = "disocclusion"
RADIANCE = "radiance"
TRACED = "traced"

AOV_SPECS: dict[str, tuple[Any, int]] = {
    RGB: (wp.uint8, 4),
    DEPTH: (wp.float32, 0),
    NORMALS: (wp.float32, 4),
    MOTION_VECTORS: (wp.float32, 4),
    INSTANCE_ID: (wp.uint32, 0),
    DISOCCLUSION: (wp.uint8, 0),
    RADIANCE: (wp.float32, 3),
    TRACED: (wp.uint8, 0),
}


@dataclass
class RenderProduct:
    """All buffers of one frame; nodes read and write them in place on ``device``."""

    frame: int
    width: int
    height: int
    device: str
    buffers: dict[str, wp.array] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def allocate(self, name: str) -> wp.array:
        """Return the named buffer, allocating it (zeroed) with its standard dtype and shape."""
        if name not in self.buffers:
            dtype, channels = AOV_SPECS[name]
            shape = (self.height, self.width, channels) if channels else (self.height, self.width)
            self.buffers[name] = wp.zeros(shape, dtype=dtype, device=self.device)
        return self.buffers[name]

    def load(self, name: str, source: Any) -> wp.array:
        """Copy an array from another host (numpy or Warp) into the named buffer.

        Layouts are fitted to ours: (H, W) <-> (H, W, 1), and 3 <-> 4 channels (padding with 0).
        A Warp array of the same layout is copied on its device without a trip through the host.
        """
        target = self.allocate(name)
        if isinstance(source, wp.array) and source.shape == target.shape and source.dtype == target.dtype:
            wp.copy(target, source)
            return target
        host = source.numpy() if isinstance(source, wp.array) else np.asarray(source)
        if host.shape[:2] != (self.height, self.width):
            raise ValueError(
                f"{name}: array of shape {host.shape} does not fit a {self.width}x{self.height} product"
            )
        host = host.reshape(self.height, self.width, -1)
        if target.ndim == 2:
            fitted = host[..., 0]
        elif host.shape == target.shape:
            fitted = host
        else:
            fitted = np.zeros(target.shape, dtype=host.dtype)
            channels = min(target.shape[2], host.shape[2])
            fitted[..., :channels] = host[..., :channels]
        target.assign(np.ascontiguousarray(fitted, dtype=wp.dtype_to_numpy(target.dtype)))
        return target

    def __getitem__(self, name: str) -> wp.array:
        try:
            return self.buffers[name]
        except KeyError:
            have = ", ".join(sorted(self.buffers)) or "nothing"
            raise KeyError(f"render product of frame {self.frame} has no {name!r} (it has {have})") from None

    def __contains__(self, name: object) -> bool:
        return name in self.buffers
