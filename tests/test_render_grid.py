"""The ray grid, the camera tiles and the thin parts: binning is exact, and tracing through them finds
what brute force over every triangle finds."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import warp as wp

from backrooms.graph.product import RenderProduct
from backrooms.params import ParamStore
from backrooms.render import demo
from backrooms.render.camera import CameraData, camera_data, camera_ray
from backrooms.render.grid import MAX_CELLS, Grid, bin_boxes, bin_near, fit_grid
from backrooms.render.parts import MAX_PARTS, planar_parts
from backrooms.render.renderer import Renderer
from backrooms.render.scene import Scene, SceneData
from backrooms.render.trace import occluded
from backrooms.world import World
from backrooms.world.types import Camera, Mesh, SceneView


def _cell_lower(grid: Grid, c: int) -> np.ndarray:
    """The lower corner of cell number ``c`` (numbered as ``Grid`` documents), computed here anew."""
    nx, ny = int(grid.dims[0]), int(grid.dims[1])
    return grid.lower + grid.pitch * np.array([c % nx, (c // nx) % ny, c // (nx * ny)])


def test_each_box_is_listed_in_exactly_the_cells_it_reaches_into() -> None:
    rng = np.random.default_rng(3)
    lowers = rng.uniform(-10, 10, (300, 3)).astype(np.float32)
    uppers = lowers + rng.uniform(0.0, 5.0, (300, 3)).astype(np.float32)
    grid = fit_grid(lowers, uppers, 2.0)
    start, items = bin_boxes(grid, lowers, uppers)
    for c in range(grid.count):
        cell_lo = _cell_lower(grid, c)
        cell_hi = cell_lo + grid.pitch
        reaches = np.all((uppers - 0.005 > cell_lo) & (lowers + 0.005 < cell_hi), axis=1)
        thin = np.any(uppers - lowers < 0.01, axis=1)  # thin boxes keep the one cell they start in
        listed = set(items[start[c] : start[c + 1]].tolist())
        assert set(np.flatnonzero(reaches & ~thin)) <= listed
        assert listed <= set(np.flatnonzero(reaches | thin))
    assert (np.diff(start) >= 0).all() and start[-1] == len(items)


def test_each_cell_lists_exactly_the_lights_within_reach() -> None:
    rng = np.random.default_rng(5)
    lowers = rng.uniform(-20, 20, (200, 3)).astype(np.float32)
    uppers = lowers + rng.uniform(0.0, 1.5, (200, 3)).astype(np.float32)
    grid = fit_grid(lowers, uppers, 4.0)
    start, items = bin_near(grid, lowers, uppers, 7.0)
    for c in range(0, grid.count, 7):
        cell_lo = _cell_lower(grid, c)
        gap = np.maximum(np.maximum(lowers - (cell_lo + grid.pitch), cell_lo - uppers), 0.0)
        within = np.flatnonzero(np.linalg.norm(gap, axis=1) <= 7.0 - 1e-4)
        listed = set(items[start[c] : start[c + 1]].tolist())
        assert set(within.tolist()) <= listed
        assert listed <= set(np.flatnonzero(np.linalg.norm(gap, axis=1) <= 7.0 + 1e-4).tolist())


# 0.25: over 65,536 cells, past 16-bit cell numbers; a long box among short ones is binned in a
# run of boxes of its own (laid out at the short ones' size, the rest would be laid out at its own)
@pytest.mark.parametrize(("pitch", "long_box"), [(2.0, False), (0.25, False), (2.0, True)])
def test_binning_lists_each_cell_s_boxes_in_ascending_order(pitch: float, long_box: bool) -> None:
    """The exact arrays, order included (the traversal's order is every image's): each box's cell
    range per axis worked out here box by box, the pairs sorted by (cell, box)."""
    rng = np.random.default_rng(11)
    lowers = rng.uniform(-10, 10, (120, 3)).astype(np.float32)
    uppers = lowers + rng.uniform(0.0, 1.5 * pitch, (120, 3)).astype(np.float32)
    if long_box:
        lowers[60], uppers[60] = -12.0, 12.0
    grid = fit_grid(lowers, uppers, pitch)
    dims = grid.dims.astype(np.int64)
    for radius in (None, 0.75 * pitch):
        lo, hi = (lowers, uppers) if radius is None else (lowers - radius - 0.005, uppers + radius + 0.005)
        pairs = []
        for b in range(len(lo)):
            first = np.clip(np.floor((lo[b] + 0.005 - grid.lower) / grid.pitch).astype(np.int64), 0, dims - 1)
            last = np.floor((hi[b] - 0.005 - grid.lower) / grid.pitch).astype(np.int64)
            last = np.clip(np.maximum(first, last), 0, dims - 1)
            for k in range(first[2], last[2] + 1):
                for j in range(first[1], last[1] + 1):
                    for i in range(first[0], last[0] + 1):
                        cell_lo = grid.lower.astype(np.float64) + grid.pitch * np.array([i, j, k])
                        gap = np.maximum(
                            np.maximum(lowers[b] - (cell_lo + grid.pitch), cell_lo - uppers[b]), 0
                        )
                        if radius is None or (gap * gap).sum() <= radius * radius:
                            pairs.append(((k * dims[1] + j) * dims[0] + i, b))
        cells, boxes = np.array(sorted(pairs)).T
        start, items = (
            bin_boxes(grid, lowers, uppers) if radius is None else bin_near(grid, lowers, uppers, radius)
        )
        assert start.dtype == items.dtype == np.int32
        assert items.tolist() == boxes.tolist()
        assert start.tolist() == np.searchsorted(cells, np.arange(grid.count + 1)).tolist()


def test_no_boxes_leave_every_cell_empty() -> None:
    grid = Grid(np.zeros(3, np.float32), 2.0, np.array([5, 2, 7], np.int32))
    none = np.zeros((0, 3), np.float32)
    for start, items in (bin_boxes(grid, none, none), bin_near(grid, none, none, 7.0)):
        assert start.dtype == items.dtype == np.int32
        assert start.tolist() == [0] * 71 and items.shape == (0,)


def test_a_modular_scene_puts_each_piece_in_one_cell() -> None:
    world = World(0, ParamStore().snapshot())
    view = world.view(world.cameras(0, 24.0)[1].position)
    scene = Scene.from_view(view)
    grid = scene.data.grid
    assert grid.pitch == pytest.approx(view.meta["cell_size"])
    assert len(grid.items.numpy()) == view.instances.mesh.shape[0]  # nothing straddles a cell plane


def test_a_huge_sparse_scene_coarsens_the_grid_instead_of_exhausting_memory() -> None:
    lowers = np.array([[0, 0, 0], [5000, 0, 5000], [-5000, 3000, 0]], np.float32)
    grid = fit_grid(lowers, lowers + 1.0, 0.5)
    assert grid.count <= MAX_CELLS and grid.pitch > 0.5


def _quad_mesh(quads: list[np.ndarray], name: str = "m") -> Mesh:
    points = np.concatenate(quads).astype(np.float32)
    tris = np.concatenate([np.array([[0, 1, 2], [0, 2, 3]]) + 4 * q for q in range(len(quads))])
    return Mesh(
        name,
        points,
        tris.astype(np.int32),
        np.tile([0.0, 1.0, 0.0], (len(points), 1)).astype(np.float32),
        np.zeros((len(points), 2), np.float32),
        np.zeros(len(tris), np.int32),
    )


def _wall(z: float, height: float = 2.8) -> np.ndarray:
    return np.array([[-2, 0, z], [2, 0, z], [2, height, z], [-2, height, z]], np.float32)


def test_a_wall_and_its_baseboard_share_a_part_but_parallel_walls_do_not() -> None:
    baseboard = _wall(-1.88, 0.1)
    top = np.array([[-2, 0.1, -1.9], [2, 0.1, -1.9], [2, 0.1, -1.88], [-2, 0.1, -1.88]], np.float32)
    floor = np.array([[-2, 0, -2], [2, 0, -2], [2, 0, 2], [-2, 0, 2]], np.float32)
    mesh = _quad_mesh([floor, _wall(-1.9), baseboard, top, _wall(1.9)])
    parts = planar_parts(mesh)
    assert sorted(np.concatenate(parts).tolist()) == list(range(10))  # every triangle once
    as_sets = sorted(sorted(p.tolist()) for p in parts)
    assert as_sets == [[0, 1], [2, 3, 4, 5, 6, 7], [8, 9]]


def test_wall_strips_either_side_of_a_doorway_stay_apart() -> None:
    left = np.array([[-2, 0, -2], [-2, 0, -1.8], [-2, 2.8, -1.8], [-2, 2.8, -2]], np.float32)
    right = left + np.array([0, 0, 3.8], np.float32)  # the same plane: a 3.6 m opening between them
    lintel = np.array([[-2, 2.2, -1.8], [-2, 2.2, 1.8], [-2, 2.8, 1.8], [-2, 2.8, -1.8]], np.float32)
    assert len(planar_parts(_quad_mesh([left, right]))) == 2  # one box would fill the doorway
    assert len(planar_parts(_quad_mesh([left, lintel, right]))) == 1  # with a lintel the box is mostly full


def test_degenerate_triangles_are_left_out_and_curved_meshes_stay_whole() -> None:
    mesh = _quad_mesh([_wall(0.0)])
    mesh.triangles = np.concatenate([mesh.triangles, [[0, 0, 1]]]).astype(np.int32)
    assert sorted(np.concatenate(planar_parts(mesh)).tolist()) == [0, 1]
    angles = np.linspace(0, 2 * np.pi, 4 * MAX_PARTS, endpoint=False)  # a 3 m column of narrow facets
    rim = 3.0 * np.stack([np.cos(angles), np.zeros_like(angles), np.sin(angles)], axis=1)
    up = np.array([0.0, 1.0, 0.0])
    facets = [np.array([a, b, b + up, a + up]) for a, b in zip(rim, np.roll(rim, -1, axis=0), strict=True)]
    assert len(planar_parts(_quad_mesh(facets))) == 1


@wp.kernel
def _blocked(
    scene: SceneData,
    origins: wp.array(dtype=wp.vec3),
    directions: wp.array(dtype=wp.vec3),
    t_max: float,
    blocked: wp.array(dtype=wp.int32),
):
    i = wp.tid()
    blocked[i] = wp.where(occluded(scene, origins[i], directions[i], t_max), 1, 0)


@wp.kernel
def _pixel_rays(cam: CameraData, directions: wp.array2d(dtype=wp.vec3)):
    y, x = wp.tid()
    directions[y, x] = camera_ray(cam, float(x) + 0.5, float(y) + 0.5)


def _brute_force(view: SceneView, origins: np.ndarray, directions: np.ndarray, t_max: float) -> np.ndarray:
    """Closest distance per ray over every triangle of every instance (Moller-Trumbore in numpy)."""
    lib, inst = view.library, view.instances
    tris = []
    for m, xf in zip(inst.mesh, inst.transform, strict=True):
        mesh = lib.meshes[m]
        pts = mesh.points @ xf[:3, :3].T + xf[:3, 3]
        tris.append(pts[mesh.triangles])
    v0, v1, v2 = np.moveaxis(np.concatenate(tris).astype(np.float64), 1, 0)
    e1, e2 = v1 - v0, v2 - v0
    best = np.full(len(origins), t_max)
    for r, (o, d) in enumerate(zip(origins, directions, strict=True)):
        p = np.cross(d, e2)
        det = (e1 * p).sum(1)
        ok = np.abs(det) > 1e-12
        inv = 1.0 / np.where(ok, det, 1.0)
        s = o - v0
        u = (s * p).sum(1) * inv
        q = np.cross(s, e1)
        v = (q @ d) * inv
        t = (q * e2).sum(1) * inv
        hit = ok & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 0) & (t < t_max)
        if hit.any():
            best[r] = t[hit].min()
    return best


@pytest.fixture(scope="module")
def neighbourhood() -> tuple[SceneView, np.ndarray]:
    """The world's pieces within 14 m of a point (all kinds of cells), and that point."""
    world = World(4, ParamStore().snapshot())
    full = world.view(world.cameras(0, 24.0)[1].position)
    centre = full.instances.transform[:, :3, 3]
    middle = centre.mean(axis=0)
    near = np.flatnonzero(np.abs(centre - middle)[:, [0, 2]].max(axis=1) < 14.0)
    instances = dataclasses.replace(
        full.instances,
        mesh=full.instances.mesh[near],
        transform=full.instances.transform[near],
        look=full.instances.look[near],
        key=full.instances.key[near],
    )
    return dataclasses.replace(full, instances=instances), middle


def test_walking_the_grid_finds_every_blocker_brute_force_finds(neighbourhood: tuple) -> None:
    view, middle = neighbourhood
    rng = np.random.default_rng(7)
    count, t_max = 400, 30.0
    origins = (middle + rng.uniform([-14, 0.3, -14], [14, 2.7, 14], (count, 3))).astype(np.float32)
    directions = rng.normal(size=(count, 3))
    directions = (directions / np.linalg.norm(directions, axis=1, keepdims=True)).astype(np.float32)
    blocked = wp.zeros(count, dtype=wp.int32)
    inputs = [wp.array(origins, dtype=wp.vec3), wp.array(directions, dtype=wp.vec3), t_max]
    scene = Scene.from_view(view)  # keep it alive: its meshes own the BVHs the kernel reads
    wp.launch(_blocked, count, [scene.data, *inputs], [blocked])
    expected = _brute_force(view, origins.astype(np.float64), directions.astype(np.float64), t_max) < t_max
    assert expected.mean() > 0.4  # many rays hit something: the test has teeth
    assert (blocked.numpy().astype(bool) == expected).all()


@pytest.mark.parametrize("distortion", [0.04, 0.3])
def test_camera_tiles_find_the_closest_hit_brute_force_finds(neighbourhood: tuple, distortion: float) -> None:
    view, middle = neighbourhood
    width, height = 96, 72
    yaw = 0.7
    rotation = np.array(
        [[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]], np.float32
    )
    cells = view.instances.transform[view.instances.transform[:, 1, 3] == 0.0, :3, 3]  # module origins
    cell = cells[np.argmin(np.abs(cells - middle).sum(axis=1))]
    position = np.array([cell[0] + 0.6, 1.5, cell[2] + 0.4], np.float32)
    camera = Camera(position=position, rotation=rotation, fov_y=75.0)
    store = ParamStore()
    store.update({"render.distortion": distortion})
    product = RenderProduct(0, width, height, "cpu")
    scene = Scene.from_view(view)
    Renderer(width, height, "cpu").render(scene, camera, camera, product, store.snapshot().node("render"), 0)
    directions = wp.zeros((height, width), dtype=wp.vec3)
    cam = camera_data(camera, width, height, 0.0, distortion)
    wp.launch(_pixel_rays, (height, width), [cam, directions])
    pick = np.random.default_rng(1).choice(width * height, 2000, replace=False)
    rays = directions.numpy().reshape(-1, 3)[pick].astype(np.float64)
    origins = np.tile(camera.position.astype(np.float64), (len(pick), 1))
    expected = _brute_force(view, origins, rays, 1.0e4)
    got = product["distance_to_camera"].numpy().reshape(-1)[pick]
    assert (expected < 1.0e4).mean() > 0.9  # inside a cell nearly every ray meets a surface
    np.testing.assert_allclose(np.where(np.isfinite(got), got, 1.0e4), expected, rtol=1e-4, atol=1e-4)


def test_the_demo_corridor_declares_its_cell_size() -> None:
    assert demo.view().meta["cell_size"] == demo.CELL


def test_the_panels_reach_is_cut_to_what_the_budget_of_light_pairs_allows(monkeypatch, caplog):
    """A wide neighbourhood at a long render.light_radius listed 88M (cell, panel) pairs (24 GB)
    and the kernel killed the process; the reach now stops where the pairs fit (here a budget a
    fifth of what the default world weighs at its default reach stands in for the 8M)."""
    from backrooms.render import grid as grid_module
    from backrooms.render.scene import Scene
    from backrooms.world import World

    world = World(0)
    scene = Scene.from_view(world.view(world.camera(0, 24.0).position))
    panels = scene.panel_boxes()
    full = len(grid_module.bin_near(scene._grid, *panels, 7.0)[1])
    assert grid_module.reach_within(scene._grid, *panels, 7.0) == 7.0  # the default world: untouched
    budget = full // 5
    monkeypatch.setattr(grid_module, "MAX_NEAR_PAIRS", budget)
    reach = grid_module.reach_within(scene._grid, *panels, 7.0)
    assert 0.0 < reach < 7.0
    assert len(grid_module.bin_near(scene._grid, *panels, reach)[1]) <= budget
    assert grid_module.reach_within(scene._grid, *panels, reach) == reach  # it fits ...
    assert grid_module.reach_within(scene._grid, *panels, reach + 0.01) < reach + 0.01  # ... and no more
    scene.reach_lights(7.0)
    scene.reach_lights(9.0)
    assert caplog.text.count("the panels reach") == 1  # said once
    assert f"render.light_radius 7 m: the panels reach {reach:.1f} m" in caplog.text
