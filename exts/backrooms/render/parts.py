"""Prototype meshes cut into thin parts, each with its own small BVH and a tight box.

A ray inside a room lies inside the room's bounding box and inside most boxes of a BVH built over
the whole room, so it descends far before it finds the one wall it hits. The Backrooms are built
from flat pieces (floors, ceilings, wall runs with their baseboards, pillar faces): a part whose box
is a few centimetres thick at most makes a slab test nearly an exact test against the surface, so
most parts are rejected before any triangle is touched.

Parts are connected pieces of one plane, then merged while their common box stays thin, so a wall
and its baseboard are one part (one box test per ray) but two parallel walls are not.
"""

from __future__ import annotations

import numpy as np

from backrooms.world.types import Mesh

MAX_PARTS = 32  # a mesh that needs more parts than this (curved, sculpted) stays one part
THIN = 0.05  # metres: a merged part's box may be at most this thick along its thinnest axis ...
FILL = 4.0  # ... and its face at most this much larger than its pieces' faces together
_ANGLE = 1.0e-2  # normals are quantised to this (radians, roughly) ...
_OFFSET = 1.0e-3  # ... and plane offsets to this (metres) when grouping coplanar triangles


def planar_parts(mesh: Mesh) -> list[np.ndarray]:
    """Triangle indices of ``mesh`` grouped into thin parts, in order of their first triangle.

    Degenerate triangles (no area, never hit) are left out.
    """
    corners = mesh.points[mesh.triangles].astype(np.float64)  # (T, 3, 3)
    normal = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    length = np.linalg.norm(normal, axis=1)
    live = np.flatnonzero(length > 1.0e-12)
    if len(live) == 0:
        return []
    normal = normal[live] / length[live, None]
    offset = (normal * corners[live, 0]).sum(axis=1)
    key = np.round(np.column_stack([normal / _ANGLE, offset / _OFFSET])).astype(np.int64)
    _, plane = np.unique(key, axis=0, return_inverse=True)
    pieces = _connected(mesh.triangles[live], plane.ravel())
    parts = _merge_thin([live[p] for p in pieces], mesh)
    if len(parts) > MAX_PARTS:
        return [live.astype(np.int32)]
    return sorted((np.sort(p).astype(np.int32) for p in parts), key=lambda p: int(p[0]))


def _connected(triangles: np.ndarray, plane: np.ndarray) -> list[np.ndarray]:
    """Split each plane's triangles into pieces that share vertices (row indices into ``triangles``)."""
    parent = np.arange(len(triangles))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_user: dict[tuple[int, int], int] = {}  # (plane, vertex) -> a triangle of that plane using it
    for t, (tri, p) in enumerate(zip(triangles.tolist(), plane.tolist(), strict=True)):
        for v in tri:
            other = first_user.setdefault((p, v), t)
            parent[root(t)] = root(other)
    roots = np.array([root(t) for t in range(len(triangles))])
    return [np.flatnonzero(roots == r) for r in np.unique(roots)]


def _merge_thin(pieces: list[np.ndarray], mesh: Mesh) -> list[np.ndarray]:
    """Greedily merge pieces, largest first, while the merged box stays ``THIN`` and mostly full:
    two wall strips either side of a doorway stay apart, or every ray through the doorway would
    pierce their common box and query them."""
    boxes = [_box(mesh, p) for p in pieces]
    order = sorted(range(len(pieces)), key=lambda i: -_face(boxes[i]))
    merged: list[tuple[list[np.ndarray], np.ndarray, float]] = []  # members, box, their faces' area
    for i in order:
        for k, (members, box, area) in enumerate(merged):
            union = np.stack([np.minimum(box[0], boxes[i][0]), np.maximum(box[1], boxes[i][1])])
            full = _face(union) <= FILL * (area + _face(boxes[i]))
            if (union[1] - union[0]).min() <= THIN and full:
                merged[k] = ([*members, pieces[i]], union, area + _face(boxes[i]))
                break
        else:
            merged.append(([pieces[i]], boxes[i], _face(boxes[i])))
    return [np.concatenate(members) for members, _, _ in merged]


def _face(box: np.ndarray) -> float:
    """The area a box shows across its thinnest axis."""
    return float(np.prod(np.sort(box[1] - box[0])[1:]))


def _box(mesh: Mesh, triangles: np.ndarray) -> np.ndarray:
    points = mesh.points[mesh.triangles[triangles].ravel()]
    return np.stack([points.min(axis=0), points.max(axis=0)])
