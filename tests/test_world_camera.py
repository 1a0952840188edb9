"""The camera autopilot: seekable, smooth, constant speed, never near a wall, curious."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backrooms.params import ParamStore
from backrooms.world import World
from backrooms.world.autopilot import MEMORY, PAUSE_LOOK, PAUSE_STOP, PAUSE_TURN
from backrooms.world.designs import HALF, WALL
from backrooms.world.layout import EAST, NORTH, SOUTH, STEPS, WEST

FPS = 30.0


def world(seed: int = 4, **camera: object) -> World:
    store = ParamStore()
    store.update({f"camera.{k}": v for k, v in camera.items()})
    return World(seed, store.snapshot())


@pytest.fixture(scope="module")
def walk() -> tuple[World, np.ndarray]:
    """Ground positions of a 20-minute walk sampled at 10 Hz."""
    w = world(4, shake=0.0, bob=0.0)
    times = np.arange(0, 20 * 60, 0.1)
    positions = np.array([w.autopilot.pose(t)[0] for t in times])
    return w, positions


def test_any_frame_alone_equals_the_same_frame_after_walking_to_it() -> None:
    walked = world(9)
    for frame in range(0, 3001, 25):
        walked.camera(frame, FPS)
    alone = world(9).camera(3000, FPS)
    seq = walked.camera(3000, FPS)
    assert np.array_equal(alone.position, seq.position) and np.array_equal(alone.rotation, seq.rotation)


def test_different_seeds_walk_different_paths() -> None:
    a, b = world(1).camera(900, FPS), world(2).camera(900, FPS)
    assert np.linalg.norm(a.position - b.position) > 1.0


def test_the_camera_keeps_a_metre_from_every_wall_and_corner(walk) -> None:
    w, positions = walk
    cell = w.cell_size
    ix = np.floor(positions[:, 0] / cell).astype(int)
    iz = np.floor(positions[:, 1] / cell).astype(int)
    local = positions - (np.stack([ix, iz], 1) + 0.5) * cell
    masks = np.array([w.mask_at(x, z) for x, z in zip(ix, iz, strict=True)])
    assert (masks > 0).all()  # always inside a walkable cell
    clearance = np.full(len(positions), np.inf)
    for side, axis, sign in ((EAST, 0, 1), (WEST, 0, -1), (SOUTH, 1, 1), (NORTH, 1, -1)):
        closed = (masks & side) == 0
        gap = (HALF - WALL) - sign * local[:, axis]
        clearance = np.where(closed, np.minimum(clearance, gap), clearance)
    corners = np.min(
        np.linalg.norm(local[:, None, :] - np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]]) * HALF, axis=2),
        axis=1,
    )
    assert clearance.min() > 1.0
    assert corners.min() > 1.0


def test_the_camera_moves_between_cells_only_through_open_walls(walk) -> None:
    w, positions = walk
    cells = np.floor(positions / w.cell_size).astype(int)
    moved = np.nonzero((cells[1:] != cells[:-1]).any(axis=1))[0]
    assert len(moved) > 100
    for i in moved:
        step = tuple(cells[i + 1] - cells[i])
        side = {v: k for k, v in STEPS.items()}[step]
        assert w.mask_at(*cells[i]) & side


def test_the_walk_keeps_a_constant_speed(walk) -> None:
    w, positions = walk
    step = np.linalg.norm(np.diff(positions, axis=0), axis=1)
    moving = step > 1e-6
    expected = w.camera_spec.speed * 0.1
    assert step.max() <= expected * 1.001
    chords = step[moving]
    assert np.median(chords) == pytest.approx(expected, rel=0.01)
    assert moving.mean() > 0.7  # and mostly walks


def test_heading_turns_smoothly_without_jumps() -> None:
    w = world(6, shake=0.0, bob=0.0)
    yaw = np.unwrap([w.autopilot.pose(f / FPS)[1] for f in range(0, 9000)])
    assert np.abs(np.diff(yaw)).max() < 0.2  # under 6 rad/s, even while looking around


def _distinct_share(explore: float) -> float:
    shares = []
    for seed in range(3):
        w = world(seed, explore=explore)
        cells = [w.autopilot.path_cell(i) for i in range(1000)]
        shares.append(len(set(cells)) / len(cells))
    return float(np.mean(shares))


def test_the_walk_prefers_cells_it_has_not_seen() -> None:
    curious, aimless = _distinct_share(0.85), _distinct_share(0.0)
    assert curious > 0.6
    assert curious > 1.3 * aimless


def test_the_walk_stops_looks_around_and_turns_back() -> None:
    w = world(8, stop_rate=0.05, look_rate=0.05, backtrack_rate=0.05)
    w.autopilot.path_cell(2000)
    kinds = w.autopilot._pause[:2000, 0]
    for kind in (PAUSE_STOP, PAUSE_LOOK, PAUSE_TURN):
        assert (kinds == kind).sum() > 20


def test_memory_of_visited_cells_is_bounded() -> None:
    w = world(5)
    w.autopilot.path_cell(5 * MEMORY)
    assert len(w.autopilot._recent) == MEMORY


def test_without_shake_and_bob_the_eye_height_is_constant() -> None:
    w = world(2, shake=0.0, bob=0.0, height=1.55)
    heights = [w.camera(f, FPS).position[1] for f in range(0, 600, 7)]
    assert np.allclose(heights, 1.55)


def test_bob_moves_the_eye_up_and_down_while_walking() -> None:
    w = world(2, shake=0.0, bob=1.0)
    heights = np.array([w.camera(f, FPS).position[1] for f in range(0, 600, 3)])
    assert 0.03 < heights.max() - heights.min() < 0.08


def test_shake_tilts_the_view_a_little() -> None:
    calm, shaky = world(2, shake=0.0, bob=0.0), world(2, shake=1.0, bob=0.0)
    angles = []
    for f in range(0, 300, 10):
        a, b = calm.camera(f, FPS).forward, shaky.camera(f, FPS).forward
        angles.append(math.degrees(math.acos(min(1.0, float(np.dot(a, b))))))
    assert 0.05 < max(angles) < 3.0


def test_camera_rotation_is_orthonormal_and_right_handed() -> None:
    cam = world(3).camera(1234, FPS)
    r = cam.rotation.astype(np.float64)
    assert np.allclose(r.T @ r, np.eye(3), atol=1e-5)
    assert np.linalg.det(r) == pytest.approx(1.0, abs=1e-5)


def test_turns_ease_in_and_out_while_walking() -> None:
    """The view turns along a chord of the path, so its turn rate ramps instead of jumping."""
    w = world(6, shake=0.0, bob=0.0, stop_rate=0.0, look_rate=0.0, backtrack_rate=0.0)
    poses = [w.autopilot.pose(f / FPS) for f in range(0, 6000)]
    ground = np.array([p[0] for p in poses])
    yaw = np.unwrap([p[1] for p in poses])
    moving = np.linalg.norm(np.diff(ground, axis=0), axis=1) > 1e-6
    steady = moving[:-1] & moving[1:]  # both neighbouring frames walk (no U-turn in place)
    accel = np.abs(np.diff(yaw, 2))[steady]
    turning = np.abs(np.diff(yaw))[:-1][steady] > 1e-3
    assert turning.sum() > 300  # it did turn a lot
    assert accel.max() < 0.004  # rad/frame^2 at 30 fps: no jump in turn rate


def test_a_live_speed_change_carries_on_from_where_the_camera_is() -> None:
    store = ParamStore()
    w = World(4, store.snapshot())
    t = 95.3
    before = w.autopilot.pose(t)[0]
    route = [w.autopilot.path_cell(i) for i in range(60)]
    store.update({"camera.speed": 3.0})
    w.set_params(store.snapshot(), time=t)
    assert np.allclose(w.autopilot.pose(t)[0], before)
    assert [w.autopilot.path_cell(i) for i in range(60)] == route
    steps = [
        np.linalg.norm(w.autopilot.pose(t + k / FPS)[0] - w.autopilot.pose(t + (k - 1) / FPS)[0])
        for k in range(1, 200)
    ]
    assert np.median(steps) == pytest.approx(3.0 / FPS, rel=0.01)


def test_a_speed_change_without_a_time_is_as_if_the_walk_always_went_that_fast() -> None:
    store = ParamStore()
    w = World(4, store.snapshot())
    w.camera(3000, FPS)
    store.update({"camera.speed": 2.2})
    w.set_params(store.snapshot())
    fresh = World(4, store.snapshot())
    for frame in (0, 700, 3000):
        assert np.allclose(w.camera(frame, FPS).position, fresh.camera(frame, FPS).position, atol=1e-5)
