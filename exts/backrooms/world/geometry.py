"""Quads and boxes grouped by material: the building blocks of the hallway prototypes.

Every face gets its own four vertices (flat normals, crisp edges) and UVs in metres along the
surface, so procedural patterns keep their real-world scale on every prototype.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# For a face whose normal lies on axis a, the two in-plane axes (u, v), so that e_u x e_v = e_a.
_IN_PLANE = {0: (1, 2), 1: (2, 0), 2: (0, 1)}
# UV axes per normal axis: floors/ceilings use (x, z), walls use (horizontal, height).
_UV_AXES = {0: (2, 1), 1: (0, 2), 2: (0, 1)}


@dataclass
class QuadSoup:
    """Quads per material name: (Q, 4, 3) corners counter-clockwise seen from the normal side."""

    quads: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def face(self, material: str, axis: int, sign: int, at: float, lo: tuple, hi: tuple) -> None:
        """An axis-aligned rectangle at coordinate ``at`` on ``axis``, facing ``sign``; lo/hi are (u, v)."""
        u, v = _IN_PLANE[axis]
        corners = np.zeros((4, 3), np.float32)
        corners[:, axis] = at
        for i, (cu, cv) in enumerate(((lo[0], lo[1]), (hi[0], lo[1]), (hi[0], hi[1]), (lo[0], hi[1]))):
            corners[i, u], corners[i, v] = cu, cv
        if sign < 0:
            corners = corners[::-1].copy()
        self.quads.setdefault(material, []).append(corners)

    def box(
        self, material: str, lo: tuple, hi: tuple, faces: str = "+x -x +y -y +z -z", **materials: str
    ) -> None:
        """A box from corner ``lo`` to ``hi``; ``faces`` lists the faces to emit, ``materials`` overrides
        per face, e.g. ``px="trim"`` for the +x face."""
        for token in faces.split():
            sign = 1 if token[0] == "+" else -1
            axis = "xyz".index(token[1])
            u, v = _IN_PLANE[axis]
            name = materials.get(("p" if sign > 0 else "n") + token[1], material)
            at = hi[axis] if sign > 0 else lo[axis]
            self.face(name, axis, sign, at, (lo[u], lo[v]), (hi[u], hi[v]))

    def merged(self, other: QuadSoup) -> QuadSoup:
        out = QuadSoup({k: list(v) for k, v in self.quads.items()})
        for k, v in other.quads.items():
            out.quads.setdefault(k, []).extend(v)
        return out


def quad_arrays(quads: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points (4Q, 3), normals (4Q, 3) and metre UVs (4Q, 2) of a list of quads."""
    corners = np.asarray(quads, np.float32).reshape(-1, 4, 3)
    normal = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    axis = np.abs(normal).argmax(axis=1)
    uvs = np.zeros((len(corners), 4, 2), np.float32)
    for a, (cu, cv) in _UV_AXES.items():
        sel = axis == a
        uvs[sel, :, 0] = corners[sel, :, cu]
        uvs[sel, :, 1] = corners[sel, :, cv]
    normals = np.repeat(normal[:, None, :], 4, axis=1)
    return corners.reshape(-1, 3), normals.reshape(-1, 3).astype(np.float32), uvs.reshape(-1, 2)
