"""What the world hands the renderer: the loaded neighbourhood, its lights, its version."""

from __future__ import annotations

import numpy as np

from backrooms.params import ParamStore
from backrooms.world import World
from backrooms.world.library import shared_library
from backrooms.world.placement import LIGHT_DEAD
from backrooms.world.world import CHUNK_CACHE

SPAN = 64.0  # metres per chunk at the defaults


def test_the_version_changes_only_when_the_chunk_set_changes() -> None:
    world = World(12)
    a = world.view(np.array([10.0, 1.6, 10.0]))
    b = world.view(np.array([60.0, 1.6, 3.0]))
    c = world.view(np.array([70.0, 1.6, 3.0]))
    assert a.version == b.version and a.version != c.version
    assert World(12).view(np.array([70.0, 1.6, 3.0])).version == c.version


def test_a_view_holds_the_cells_of_the_load_radius() -> None:
    store = ParamStore()
    store.update({"world.load_radius": 2})
    world = World(12, store.snapshot())
    view = world.view(np.array([1.0, 1.6, 1.0]))
    centres = view.instances.transform[:, [0, 2], 3]
    assert centres.min() >= -2 * SPAN and centres.max() <= 3 * SPAN
    assert len(view.meta["chunks"]) == 25


def test_the_library_is_loaded_once_and_shared() -> None:
    assert World(1).library is World(2).library is shared_library()
    view_a, view_b = World(1).view(np.zeros(3)), World(2).view(np.zeros(3))
    assert view_a.library is view_b.library


def test_every_light_has_a_glowing_panel_with_the_same_key() -> None:
    world = World(5)
    view = world.view(np.zeros(3))
    lib = view.library
    panels = view.instances.mesh == world.library.panel
    assert panels.sum() == len(view.lights.key) > 100
    assert np.array_equal(np.sort(view.instances.key[panels]), np.sort(view.lights.key))
    panel_centres = view.instances.transform[panels][:, :3, 3]
    by_key = dict(zip(view.instances.key[panels].tolist(), panel_centres, strict=True))
    for key, pos in zip(view.lights.key.tolist(), view.lights.position, strict=True):
        assert np.allclose(by_key[key][[0, 2]], pos[[0, 2]])
    glow = {m.pattern for m in lib.materials if max(m.emissive) > 0}
    assert "light_panel" in glow


def test_dead_lights_give_no_light_and_failure_rate_zero_means_none_dead() -> None:
    store = ParamStore()
    store.update({"world.light_failure_rate": 0.0})
    lights = World(5, store.snapshot()).view(np.zeros(3)).lights
    assert not (lights.state == LIGHT_DEAD).any()
    dead = World(5).view(np.zeros(3)).lights
    assert (dead.intensity[dead.state == LIGHT_DEAD] == 0).all() and (dead.state == LIGHT_DEAD).any()


def test_instance_transforms_are_quarter_turns_about_y() -> None:
    t = World(5).view(np.zeros(3)).instances.transform
    rot = t[:, :3, :3]
    assert np.allclose(np.einsum("kji,kjl->kil", rot, rot), np.eye(3), atol=1e-6)
    assert np.allclose(rot[:, 1], [0, 1, 0]) and set(np.unique(np.round(rot[:, 0, 0]))) <= {-1.0, 0.0, 1.0}


def test_walking_far_keeps_the_chunk_cache_bounded() -> None:
    world = World(7)
    for frame in range(0, 30 * 4 * 3600, 30 * 30):  # four hours of walking, a view every 30 s
        world.view(world.camera(frame, 30.0).position)
    assert len(world._chunks) <= CHUNK_CACHE and len(world._scenes) <= CHUNK_CACHE
    assert len(world._chunks) == CHUNK_CACHE  # the walk went far enough to fill it
    assert world.autopilot.cells_walked(4 * 3600.0) > 3000


def test_filming_knobs_keep_the_walk_and_layout_knobs_rebuild_the_world() -> None:
    store = ParamStore()
    world = World(3, store.snapshot())
    before = world.view(np.zeros(3)).version
    walk = world.autopilot
    store.update({"camera.shake": 1.5})
    world.set_params(store.snapshot())
    assert world.autopilot is walk and world.view(np.zeros(3)).version == before
    store.update({"world.corridor_density": 0.8})
    world.set_params(store.snapshot())
    assert world.view(np.zeros(3)).version != before


def test_a_variant_rate_moved_live_re_dresses_the_cells_it_keeps_the_walls_and_the_walk(monkeypatch) -> None:
    """A variant rate may glide (world/params.py); each of its values regenerated every loaded chunk
    and re-planned the walk from its start (146 ms a frame instead of 52 while ``world.stain_rate``
    glided at 320x240). Now the walls stay and the cells are re-dressed, the walk stays unless the
    lights it glances at changed; and what is left is what a world made with the new values holds."""
    import backrooms.world.world as world_module

    store = ParamStore()
    world = World(3, store.snapshot())
    frames = (0, 240, 2400)
    for frame in frames:
        world.view(world.camera(frame, 24.0).position)
    walk = world.autopilot
    traced = []
    generate = world_module.generate_block
    monkeypatch.setattr(world_module, "generate_block", lambda *a: traced.append(a) or generate(*a))
    for rates in ({"world.stain_rate": 0.7, "world.damp_rate": 0.5}, {"world.missing_light_rate": 0.2}):
        store.update(rates)
        world.set_params(store.snapshot())
        assert world.autopilot is walk, rates
        cameras = [world.camera(frame, 24.0) for frame in frames]
        views = [world.view(camera.position) for camera in cameras]
        assert not traced  # the walls were kept
        fresh = World(3, store.snapshot())
        for frame, here, mine in zip(frames, cameras, views, strict=True):
            there = fresh.camera(frame, 24.0)
            assert here.position.tobytes() == there.position.tobytes()
            assert here.rotation.tobytes() == there.rotation.tobytes()
            theirs = fresh.view(there.position)
            assert mine.version == theirs.version
            for name in ("mesh", "transform", "look", "key"):
                assert np.array_equal(getattr(mine.instances, name), getattr(theirs.instances, name)), name
            for name in ("position", "state", "intensity"):
                assert np.array_equal(getattr(mine.lights, name), getattr(theirs.lights, name)), name
        traced.clear()
    store.update({"world.flicker_rate": 0.3})  # more failing lights to glance at: the walk is re-planned
    world.set_params(store.snapshot())
    assert world.autopilot is not walk


def test_the_cache_holds_a_wide_neighbourhood_twice() -> None:
    store = ParamStore()
    store.update({"world.load_radius": 4})
    world = World(3, store.snapshot())
    world.view(np.zeros(3))
    world.view(np.array([5 * SPAN, 0.0, 0.0]))
    assert len(world._scenes) == 2 * 81 - 36  # both 9 x 9 neighbourhoods, overlap once


def test_a_new_neighbourhood_is_generated_in_one_block_as_its_chunks_are_alone(monkeypatch) -> None:
    """A new world (a layout knob stepped live) or a crossing needs several chunks at once: one
    vectorised block of them costs a fraction of each chunk alone (3x3 16-cell chunks: 5 against
    28 ms), and each chunk of it is the same cells as generated alone."""
    import dataclasses

    import backrooms.world.world as world_module

    boxes = []
    generate = world_module.generate_block
    monkeypatch.setattr(
        world_module, "generate_block", lambda spec, *box: boxes.append(box) or generate(spec, *box)
    )
    world = World(5)
    view = world.view(np.array([1.0, 1.6, 1.0]))  # no camera asked yet: all nine chunks are new
    assert boxes == [(-1, -1, 2, 2)]
    for cx, cz in view.meta["chunks"]:
        mine, alone = world.cells(cx, cz), generate(world.spec, cx, cz, cx + 1, cz + 1)
        for field in dataclasses.fields(alone):
            assert np.array_equal(getattr(mine, field.name), getattr(alone, field.name)), (cx, cz, field.name)
    boxes.clear()
    world.view(np.array([1.0 + SPAN, 1.6, 1.0]))  # one chunk east: the column beyond, in one block
    assert boxes == [(2, -1, 3, 2)]
