"""The camera operator's walk: seekable, smooth, never near a wall, curious, walking like a person."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backrooms.params import ParamError, ParamStore
from backrooms.world import World
from backrooms.world.autopilot import MEMORY, PAUSE_HESITATE, PAUSE_LOOK, PAUSE_STOP, PAUSE_TURN
from backrooms.world.designs import HALF, WALL
from backrooms.world.footage import operator_stats
from backrooms.world.layout import CORRIDOR, DOORWAY, EAST, LANDMARK, NORTH, SOUTH, STEPS, WEST

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


def test_the_walk_speeds_up_slows_down_and_stops_without_jerks(walk) -> None:
    w, positions = walk
    step = np.linalg.norm(np.diff(positions, axis=0), axis=1) / 0.1  # m/s at 10 Hz
    pace = w.camera_spec.speed
    assert step.max() < 1.6 * pace  # the fastest stretch (1.35x pace), drifting across the corridor
    moving = step[step > 0.05]
    assert np.std(moving) / np.mean(moving) > 0.15  # the walking speed itself varies
    assert 0.6 < (step > 0.05).mean() < 0.95  # mostly walks, sometimes stands
    speeds = np.array([w.autopilot.ground(t).speed for t in np.arange(0, 300, 1 / FPS)])
    assert np.abs(np.diff(speeds)).max() * FPS < 2.5  # m/s^2: eases into and out of every stop


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


def test_the_walk_stops_looks_around_hesitates_and_turns_back() -> None:
    w = world(8, stop_rate=0.05, look_rate=0.05, backtrack_rate=0.05)
    kinds = np.array([w.autopilot.piece_kind(i) for i in range(2000)])
    for kind in (PAUSE_STOP, PAUSE_LOOK, PAUSE_TURN, PAUSE_HESITATE):
        assert (kinds == kind).sum() > 20


def test_hesitations_happen_at_junctions_and_doorways_only() -> None:
    w = world(8)
    for i in range(1500):
        if w.autopilot.piece_kind(i) == PAUSE_HESITATE:
            mask, kind, _ = w.autopilot.cell_info(i)[4]
            assert bin(mask).count("1") > 2 or kind == DOORWAY


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
    assert accel.max() < 0.006  # rad/frame^2 at 30 fps (pace up to 1.3x): no jump in turn rate


def test_a_live_speed_change_carries_on_from_where_the_camera_is() -> None:
    store = ParamStore()
    w = World(4, store.snapshot())
    t = 95.3
    before = w.autopilot.pose(t)[0]
    route = [w.autopilot.path_cell(i) for i in range(60)]
    piece = w.autopilot.piece_at(t)
    walking = [w.autopilot.piece_seconds(i) - w.autopilot._shape[i, 0] for i in range(piece + 1, 50)]
    store.update({"camera.speed": 3.0})
    w.set_params(store.snapshot(), time=t)
    assert np.allclose(w.autopilot.pose(t)[0], before)
    assert [w.autopilot.path_cell(i) for i in range(60)] == route
    after = [w.autopilot.piece_seconds(i) - w.autopilot._shape[i, 0] for i in range(piece + 1, 50)]
    assert np.allclose(np.array(after) / np.array(walking), 1.4 / 3.0)  # walks faster, stands as long


def test_failing_panels_moved_live_keep_the_camera_and_the_route_and_move_the_stops_after() -> None:
    """The operator stops to look up at failing panels, so a new share of them re-planned the walk's
    timing from its start: 17 minutes in, flicker_rate 0.08 -> 0.3 moved the camera 13.7 m."""
    store = ParamStore()
    w = World(0, store.snapshot())
    t = 1000.0
    before = w.camera(24000, 24.0).position.copy()
    route = [w.autopilot.path_cell(i) for i in range(900)]
    looks = [w.autopilot.looks_up(i) for i in range(900)]
    store.update({"world.flicker_rate": 0.3, "world.light_failure_rate": 0.25})
    w.set_params(store.snapshot(), time=t)
    assert np.array_equal(w.camera(24000, 24.0).position, before)
    assert [w.autopilot.path_cell(i) for i in range(900)] == route
    now = w.autopilot.piece_at(t)
    after = [w.autopilot.looks_up(i) for i in range(900)]
    assert after[: now + 1] == looks[: now + 1] and sum(after[now + 1 :]) > sum(looks[now + 1 :])
    as_if_always = World(0, store.snapshot())
    assert np.linalg.norm(as_if_always.camera(24000, 24.0).position - before) > 1.0  # without a time


def test_route_knobs_moved_live_keep_the_camera_and_change_the_route_from_the_next_cell() -> None:
    """A route knob re-planned the whole walk from its start (a teleport, 17 minutes in); given the
    time the walk goes on from the current piece and the new knobs choose the turns after it."""
    store = ParamStore()
    w = World(0, store.snapshot())
    t = 1000.0
    before = w.camera(24000, 24.0).position.copy()
    route = [w.autopilot.path_cell(i) for i in range(900)]
    store.update({"camera.turn_rate": 0.95, "camera.explore": 0.2, "camera.stop_rate": 0.3})
    w.set_params(store.snapshot(), time=t)
    assert np.array_equal(w.camera(24000, 24.0).position, before)
    now = w.autopilot.piece_at(t)
    after = [w.autopilot.path_cell(i) for i in range(900)]
    assert after[: now + 2] == route[: now + 2] and after != route  # the next cell is where the exit leads
    assert np.linalg.norm(World(0, store.snapshot()).camera(24000, 24.0).position - before) > 1.0


def test_a_speed_change_without_a_time_is_as_if_the_walk_always_went_that_fast() -> None:
    store = ParamStore()
    w = World(4, store.snapshot())
    w.camera(3000, FPS)
    store.update({"camera.speed": 2.2})
    w.set_params(store.snapshot())
    fresh = World(4, store.snapshot())
    for frame in (0, 700, 3000):
        assert np.allclose(w.camera(frame, FPS).position, fresh.camera(frame, FPS).position, atol=1e-5)


def _clearance(w: World, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per ground point (x, z): distance to the closed walls of its cell and to the cell's corners;
    asserts every point lies in a walkable cell."""
    cell = w.cell_size
    ix = np.floor(points[:, 0] / cell).astype(int)
    iz = np.floor(points[:, 1] / cell).astype(int)
    local = points - (np.stack([ix, iz], 1) + 0.5) * cell
    masks = np.array([w.mask_at(x, z) for x, z in zip(ix, iz, strict=True)])
    assert (masks > 0).all()
    walls = np.full(len(points), np.inf)
    for side, axis, sign in ((EAST, 0, 1), (WEST, 0, -1), (SOUTH, 1, 1), (NORTH, 1, -1)):
        gap = (HALF - WALL) - sign * local[:, axis]
        walls = np.where((masks & side) == 0, np.minimum(walls, gap), walls)
    corners = np.linalg.norm(
        local[:, None, :] - np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]]) * HALF, axis=2
    )
    return walls, corners.min(axis=1)


@pytest.mark.parametrize("operator", ["walking", "nervous", "running"])
def test_the_filmed_camera_never_leaves_the_walkable_space(operator: str) -> None:
    """Many seeds x 1,000 frames: the camera itself (bob, sway and wander included) stays in a walkable
    cell, 1.4 m from its closed walls and 1.5 m from its corners."""
    for seed in range(8):
        w = world(seed, operator=operator, bob=3.0)
        cams = [w.camera(f, 24.0) for f in range(0, 1000)]
        walls, corners = _clearance(w, np.array([c.position[[0, 2]] for c in cams], np.float64))
        assert walls.min() > 1.4 and corners.min() > 1.5


def test_footage_stats_of_a_30_second_walk_look_hand_held() -> None:
    """The figures a filmmaker checks, on the cameras of seeds 0-2 at the default style."""
    for seed in range(3):
        stats = operator_stats(world(seed), seconds=30.0, fps=24.0)
        assert stats["speed_cv"] >= 0.3
        assert stats["longest_stop_s"] >= 0.5
        assert stats["widest_look_deg"] >= 30.0
        assert 0.05 < stats["tremor_rms_deg"] < 2.0  # fractions of a degree (plus any whip-pan)


def test_hand_tremor_lives_between_two_and_eight_hertz() -> None:
    w = world(3)
    t = np.arange(0, 60, 1 / 48)
    hands = np.array([w.operator._hands(x, 1) for x in t])
    power = np.abs(np.fft.rfft(hands - hands.mean())) ** 2
    freq = np.fft.rfftfreq(len(t), 1 / 48)
    above = power[freq > 1.5].sum()
    assert power[(freq >= 2) & (freq <= 8)].sum() > 0.8 * above  # little above 8 Hz
    assert 0.02 < np.degrees(np.std(hands)) < 1.5  # fractions of a degree


def test_a_tripod_has_no_hands_and_a_runner_shakes_most() -> None:
    tripod = operator_stats(world(1, operator="tripod"), seconds=20.0)
    walking = operator_stats(world(1), seconds=20.0)
    running = operator_stats(world(1, operator="running"), seconds=20.0)
    assert tripod["tremor_rms_deg"] < walking["tremor_rms_deg"] / 3
    run, walk = world(1, operator="running"), world(1)
    assert run.camera(24 * 20, 24.0).steps < run.autopilot.ground(20.0).walked  # longer strides
    assert run.autopilot.ground(20.0).walked > 1.5 * walk.autopilot.ground(20.0).walked
    assert running["speed_cv"] > 0.0


def test_steps_follow_the_distance_at_one_point_six_to_two_steps_a_second() -> None:
    w = world(2)
    cams = [w.camera(f, 24.0) for f in range(0, 24 * 60)]
    steps = np.array([c.steps for c in cams])
    speed = np.array([c.speed for c in cams])
    cadence = np.diff(steps) * 24.0
    at_pace = np.abs(speed[1:] - w.camera_spec.speed) < 0.1
    assert at_pace.sum() > 100
    assert 1.6 < np.median(cadence[at_pace]) < 2.0
    assert all(0.0 <= c.step_phase < 1.0 for c in cams)
    standing = speed < 0.05
    assert standing.any() and not any(c.walking for c in np.array(cams)[standing])
    assert np.all(np.diff(steps) >= 0)


def test_bob_falls_at_each_footfall() -> None:
    w = world(2, shake=0.0)
    cams = [w.camera(f, 48.0) for f in range(0, 48 * 30)]
    walking = [c for c in cams if abs(c.speed - w.camera_spec.speed) < 0.1]
    low = [c.position[1] for c in walking if min(c.step_phase, 1 - c.step_phase) < 0.05]
    high = [c.position[1] for c in walking if abs(c.step_phase - 0.5) < 0.05]
    assert np.mean(low) < np.mean(high) - 0.02


def test_the_operator_glances_up_at_failing_panels_only() -> None:
    w = world(5, curiosity=1.0)
    up_failing = up_healthy = 0
    for f in range(0, 24 * 600, 6):
        g = w.autopilot.ground(f / 24.0)
        lights = w.autopilot.cell_info(g.piece)[4][2]
        pitch = w.operator.gaze(g, f / 24.0)[1]
        if math.degrees(pitch) > 10:
            if lights in (1, 2):
                up_failing += 1
            else:
                up_healthy += 1
    assert up_failing > 10 and up_healthy == 0


def test_curiosity_scales_how_far_the_operator_looks_away() -> None:
    calm = operator_stats(world(0, curiosity=0.0, operator="steadicam"), seconds=30.0)
    curious = operator_stats(world(0, curiosity=1.5, operator="steadicam"), seconds=30.0)
    assert calm["widest_look_deg"] < 5.0
    assert curious["widest_look_deg"] > 30.0


def test_a_nervous_operator_whip_pans() -> None:
    nervous, tripod = world(7, operator="nervous"), world(7, operator="tripod")
    for w, fast in ((nervous, True), (tripod, False)):
        yaw = np.unwrap(
            [
                math.atan2(-c.forward[2], c.forward[0])
                for c in map(lambda f: w.camera(f, 24.0), range(24 * 120))
            ]
        )
        assert (np.abs(np.diff(yaw)).max() * 24.0 > 4.0) == fast  # rad/s


def test_operator_knobs_are_range_checked() -> None:
    store = ParamStore()
    for key, bad in (("camera.operator", "drunk"), ("camera.shake", 5.0), ("camera.curiosity", -1.0)):
        with pytest.raises(ParamError, match=key):
            store.update({key: bad})
    assert store.snapshot()["camera.operator"] == "walking"


def test_the_operator_finds_landmarks_at_about_the_asked_rate() -> None:
    """Landmarks within two cells draw the walk, so it finds them about as often per corridor cell as
    the layout has them (without that, dead-end EXIT doors were always skipped)."""
    found = corridor = 0
    for seed in (3, 4):
        w = World(seed, _snapshot(**{"world.landmark_rate": 0.02}))
        seen = {w.autopilot.path_cell(i) for i in range(5000)}
        kinds = [w.cell_at(x, z)[1] for x, z in seen]
        found += sum(k == LANDMARK for k in kinds)
        corridor += sum(k in (CORRIDOR, DOORWAY, LANDMARK) for k in kinds)
    assert 0.8 < found / corridor / 0.02 < 2.0


def _snapshot(**values: object):
    store = ParamStore()
    store.update(values)
    return store.snapshot()
