"""The camera model shared by ray generation and reprojection: pinhole plus optional radial distortion.

Image coordinates are pixels with (0, 0) at the top-left corner of the top-left pixel, x right,
y down; pixel ``(i, j)`` has its centre at ``(i + 0.5, j + 0.5)``. The distortion maps a distorted
image point ``p`` (in units of ``tan(fov/2)``, y up) to the pinhole point ``q = p (1 + k |p|^2)``;
``k > 0`` is barrel distortion (the edges see more of the world than a pinhole would).
"""

from __future__ import annotations

import math

import numpy as np
import warp as wp

from backrooms.world.types import Camera

_NEWTON_STEPS = wp.constant(6)  # |p| from |q|: converges to float precision for k <= 0.5 within the frame


@wp.struct
class CameraData:
    position: wp.vec3
    rotation: wp.mat33  # columns: right, up, back (+Z); the camera looks down -Z
    tan_half_fov: float
    aspect: float
    distortion: float
    width: int
    height: int


def camera_data(
    camera: Camera, width: int, height: int, fov_y: float = 0.0, distortion: float = 0.0
) -> CameraData:
    """Pack a world camera for kernels; ``fov_y`` > 0 overrides the camera's own field of view."""
    fov = fov_y if fov_y > 0.0 else float(camera.fov_y)
    data = CameraData()
    data.position = wp.vec3(*np.asarray(camera.position, np.float32).tolist())
    data.rotation = wp.mat33(*np.asarray(camera.rotation, np.float32).ravel().tolist())
    data.tan_half_fov = math.tan(math.radians(fov) * 0.5)
    data.aspect = width / height
    data.distortion = float(distortion)
    data.width = width
    data.height = height
    return data


@wp.func
def camera_ray(cam: CameraData, px: float, py: float) -> wp.vec3:
    """Unit world direction through image point (px, py)."""
    p = wp.vec2((2.0 * px / float(cam.width) - 1.0) * cam.aspect, 1.0 - 2.0 * py / float(cam.height))
    q = p * (1.0 + cam.distortion * wp.dot(p, p)) * cam.tan_half_fov
    return wp.normalize(cam.rotation * wp.vec3(q[0], q[1], -1.0))


@wp.func
def project(cam: CameraData, v: wp.vec3) -> wp.vec3:
    """Image point (px, py, 1) of world offset ``v`` from the camera (a point minus the camera position,
    or a direction at infinity); z is 0 when it lies behind the camera."""
    c = wp.transpose(cam.rotation) * v
    if c[2] >= -1.0e-6:
        return wp.vec3(0.0, 0.0, 0.0)
    q = wp.vec2(c[0], c[1]) / (-c[2] * cam.tan_half_fov)
    rq = wp.length(q)
    r = rq
    for _ in range(_NEWTON_STEPS):
        step = (r + cam.distortion * r * r * r - rq) / (1.0 + 3.0 * cam.distortion * r * r)
        r = r - step
        if wp.abs(step) <= 1.0e-7 * rq:  # converged (at once for a pinhole)
            break
    p = q
    if rq > 0.0:
        p = q * (r / rq)
    return wp.vec3(
        (p[0] / cam.aspect + 1.0) * 0.5 * float(cam.width), (1.0 - p[1]) * 0.5 * float(cam.height), 1.0
    )
