"""A product's pixels as its camera saw them: the render node's camera packed for kernels, and each
pixel's world point from its distance. The frame generator and the re-lighting both read these."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import warp as wp

from backrooms.render.camera import CameraData, camera_data, camera_ray

FAR = 1.0e30  # a pixel's distance where nothing was hit (misses, infinitely far)


@wp.func
def pixel_point(cam: CameraData, depth: wp.array2d(dtype=wp.float32), y: int, x: int) -> wp.vec3:
    """World point of pixel (y, x) (its ray direction for a miss), before subtracting a camera."""
    d = camera_ray(cam, float(x) + 0.5, float(y) + 0.5)
    t = depth[y, x]
    if t < FAR:
        return cam.position + t * d
    return d


def lens_camera(
    camera: dict[str, Any], width: int, height: int, pose: dict[str, Any] | None = None
) -> CameraData:
    """Pack the render node's ``meta["camera"]`` (or its ``pose``, e.g. ``previous``) for kernels."""
    pose = pose or camera
    fov, distortion = camera.get("lens", (0.0, 0.0))
    world = SimpleNamespace(
        position=np.asarray(pose["position"], np.float32),
        rotation=np.asarray(pose["rotation"], np.float32),
        fov_y=camera["fov_y"],
    )
    return camera_data(world, width, height, fov, distortion)
