"""The layout randomizer: pure per cell, seamless chunks, one connected walkable region, no repeats."""

from __future__ import annotations

import numpy as np
import pytest

from backrooms.params import ParamStore
from backrooms.world.cellhash import hash_ints, purpose_key, uniform
from backrooms.world.forest import components, minimum_spanning_forest
from backrooms.world.layout import (
    EAST,
    LANDMARK,
    NORTH,
    PILLAR,
    ROOM,
    SOLID,
    SOUTH,
    WEST,
    LayoutSpec,
    generate_block,
    generate_region,
)
from backrooms.world.library import shared_library
from backrooms.world.placement import PlacementTable
from backrooms.world.repetition import cell_tokens, expected_repeats, repeated_windows


def spec(seed: int, **world: object) -> LayoutSpec:
    """The registry's layout defaults for ``seed``, with ``world.*`` overrides."""
    store = ParamStore()
    store.update({f"world.{k}": v for k, v in world.items()})
    return LayoutSpec.from_params(seed, store.snapshot())


SPEC = spec(seed=20261125)
N = SPEC.chunk_size


@pytest.fixture(scope="module")
def million() -> object:
    """A 1008 x 1008 block (63 x 63 chunks, 1,016,064 cells) around the origin."""
    return generate_block(SPEC, -31, -31, 32, 32)


def open_walls(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Node pairs of the open walls inside a mask grid, each wall once."""
    h, w = mask.shape
    ids = np.arange(h * w).reshape(h, w)
    east = (mask[:, :-1] & EAST) > 0
    south = (mask[:-1, :] & SOUTH) > 0
    u = np.concatenate([ids[:, :-1][east], ids[:-1, :][south]])
    v = np.concatenate([ids[:, 1:][east], ids[1:, :][south]])
    return u, v


def test_a_chunk_generated_alone_equals_the_same_chunk_inside_a_block() -> None:
    block = generate_block(SPEC, -2, 3, 2, 6)
    alone = generate_block(SPEC, 1, 4, 2, 5)
    inside = block.crop(alone.x0, alone.z0, alone.x0 + N, alone.z0 + N)
    for name in ("kind", "mask", "wallpaper", "carpet", "ceiling", "lights", "wear", "pick"):
        assert np.array_equal(getattr(alone, name), getattr(inside, name)), name


def test_neighbouring_chunks_generated_apart_agree_on_their_shared_walls() -> None:
    for dx, dz, mine, theirs in ((1, 0, EAST, WEST), (0, 1, SOUTH, NORTH)):
        here = generate_block(SPEC, 7, -4, 8, -3)
        there = generate_block(SPEC, 7 + dx, -4 + dz, 8 + dx, -3 + dz)
        if dx:
            assert np.array_equal(here.mask[:, -1] & mine > 0, there.mask[:, 0] & theirs > 0)
        else:
            assert np.array_equal(here.mask[-1, :] & mine > 0, there.mask[0, :] & theirs > 0)


def test_every_chunk_border_has_an_opening() -> None:
    block = generate_block(SPEC, 0, 0, 12, 12)
    east = (block.mask[:, N - 1 :: N][:, :-1] & EAST) > 0  # (H, borders)
    south = (block.mask[N - 1 :: N, :][:-1, :] & SOUTH) > 0
    assert east.reshape(12, N, 11).any(axis=1).all()
    assert south.reshape(11, 12, N).any(axis=2).all()


def test_walls_agree_from_both_sides(million) -> None:
    m = million.mask
    assert np.array_equal((m[:, :-1] & EAST) > 0, (m[:, 1:] & WEST) > 0)
    assert np.array_equal((m[:-1, :] & SOUTH) > 0, (m[1:, :] & NORTH) > 0)


def test_solid_cells_have_no_openings_and_walkable_cells_have_some(million) -> None:
    solid = million.kind == SOLID
    assert (million.mask[solid] == 0).all()
    assert (million.mask[~solid] > 0).all()


def test_a_million_cells_form_one_connected_walkable_region(million) -> None:
    h, w = million.shape
    assert h * w >= 1_000_000
    u, v = open_walls(million.mask)
    label = components(h * w, u, v)
    walkable = (million.kind != SOLID).ravel()
    assert walkable.mean() > 0.5
    assert len(np.unique(label[walkable])) == 1


def test_components_finds_separate_islands() -> None:
    label = components(6, np.array([0, 1, 3]), np.array([1, 2, 4]))
    assert label.tolist() == [0, 0, 0, 3, 3, 5]


def test_minimum_spanning_forest_picks_the_cheapest_tree() -> None:
    # square 0-1-2-3-0 plus diagonal 0-2: the cheapest spanning tree drops the two dearest edges
    u, v = np.array([0, 1, 2, 3, 0]), np.array([1, 2, 3, 0, 2])
    chosen = minimum_spanning_forest(4, u, v, np.array([1.0, 5.0, 2.0, 4.0, 3.0]))
    assert chosen.tolist() == [True, False, True, False, True]


def test_chunk_seams_open_as_often_as_interior_walls(million) -> None:
    """No visible lattice: walls on chunk borders open at the interior rate (within 12 %)."""
    walk = million.kind != SOLID
    pair = walk[:, :-1] & walk[:, 1:]
    is_open = (million.mask[:, :-1] & EAST) > 0
    border = ((np.arange(million.x0, million.x0 + million.shape[1] - 1) + 1) % N == 0)[None, :]
    interior_rate = is_open[pair & ~border].mean()
    border_rate = is_open[pair & border].mean()
    assert border_rate == pytest.approx(interior_rate, rel=0.12)


def test_no_six_by_six_window_repeats_in_a_million_cells(million) -> None:
    tokens = cell_tokens(million.crop(-496, -496, 504, 504), PlacementTable(shared_library()))
    assert expected_repeats(tokens) < 1e-6  # what chance predicts for independent cells
    assert repeated_windows(tokens, 6) == 0


def test_repeated_window_count_finds_a_copied_patch() -> None:
    tokens = np.random.default_rng(0).integers(1, 1000, (40, 40))
    tokens[20:26, 30:36] = tokens[2:8, 3:9]
    assert repeated_windows(tokens, 6) == 1


def test_room_rate_zero_makes_no_rooms_and_a_high_rate_makes_many() -> None:
    none = generate_block(spec(seed=5, room_rate=0.0), 0, 0, 8, 8)
    many = generate_block(spec(seed=5, room_rate=1.0, pillar_rate=0.5), 0, 0, 8, 8)
    assert not np.isin(none.kind, (ROOM, PILLAR)).any()
    assert (many.kind == ROOM).mean() > 0.05 and (many.kind == PILLAR).mean() > 0.05
    assert np.isin(many.kind, (ROOM, PILLAR)).mean() > 0.2


@pytest.mark.parametrize("chunk", [16, 23])
def test_rooms_overlap_as_the_rule_says_cell_by_cell(chunk: int) -> None:
    """Rooms are painted rectangle by rectangle, all slots at once; worked out here cell by cell
    from the rule (the last slot's room wins, within a slot the room of the cell's own chunk, then
    of the chunks west, north and north-west), at a room rate where rooms overlap everywhere."""
    layout = spec(seed=9, chunk_size=chunk, room_rate=1.0, pillar_rate=0.5)
    key, n = purpose_key(layout.seed, "room"), chunk
    slots = max(1, n * n // 48)

    def room(cx: int, cz: int, slot: int) -> tuple[int, int, int, int, int] | None:
        if uniform(key, cx, cz, slot, 1) >= layout.room_rate:
            return None
        h = int(hash_ints(key, cx, cz, slot))
        pillar = uniform(key, cx, cz, slot, 2) < layout.pillar_rate
        big = 3 if pillar else 2
        size = min(n, big + h % 4), min(n, big + (h >> 8) % 4)
        return cx * n + (h >> 16) % n, cz * n + (h >> 32) % n, *size, PILLAR if pillar else ROOM

    rooms = {(cx, cz, s): room(cx, cz, s) for cx in range(-2, 2) for cz in range(-2, 2) for s in range(slots)}
    block = generate_block(layout, -1, -1, 1, 1)
    expected = np.zeros(block.shape, np.uint8)
    for z in range(block.z0, block.z0 + block.shape[0]):
        for x in range(block.x0, block.x0 + block.shape[1]):
            for s in range(slots):
                for dx, dz in ((0, 0), (-1, 0), (0, -1), (-1, -1)):
                    r = rooms[(x // n + dx, z // n + dz, s)]
                    if r is not None and r[0] <= x < r[0] + r[2] and r[1] <= z < r[1] + r[3]:
                        expected[z - block.z0, x - block.x0] = r[4]
    found = np.where(np.isin(block.kind, (ROOM, PILLAR)), block.kind, 0)
    assert (expected > 0).mean() > 0.3
    assert np.array_equal(found, expected)


def test_landmark_rate_sets_the_share_of_landmarks() -> None:
    cells = generate_block(spec(seed=9, landmark_rate=0.05), 0, 0, 16, 16)
    corridor_like = np.isin(cells.kind, (1, 4, LANDMARK))
    share = (cells.kind == LANDMARK).sum() / corridor_like.sum()
    assert share == pytest.approx(0.05, rel=0.2)


def test_light_failure_rate_sets_the_share_of_dead_panels() -> None:
    for rate in (0.0, 0.3):
        cells = generate_block(spec(seed=2, light_failure_rate=rate), 0, 0, 16, 16)
        dead = (cells.lights[cells.kind != SOLID] == 2).mean()
        assert dead == pytest.approx(rate, abs=0.03)


def test_corridor_density_controls_how_much_is_walkable() -> None:
    sparse = generate_region(spec(seed=1, corridor_density=0.3, room_rate=0.0), 0, 0, 128, 128)
    dense = generate_region(spec(seed=1, corridor_density=0.9, room_rate=0.0), 0, 0, 128, 128)
    assert (sparse.kind != SOLID).mean() + 0.3 < (dense.kind != SOLID).mean()


def test_another_seed_gives_another_world() -> None:
    a = generate_block(spec(seed=1), 0, 0, 2, 2)
    b = generate_block(spec(seed=2), 0, 0, 2, 2)
    assert (a.mask != b.mask).mean() > 0.3


def test_scalar_and_vector_cell_hashes_agree() -> None:
    from backrooms.world.cellhash import uniform_one

    xs = np.array([-7, 0, 3, 2**40])
    assert [uniform_one(99, x, -2, 5) for x in xs] == uniform(99, xs, -2, 5).tolist()


def test_doorway_rate_sets_the_share_of_straight_corridors_with_a_door() -> None:
    from backrooms.world.layout import CORRIDOR, DOORWAY, STRAIGHTS

    cells = generate_block(spec(seed=4, doorway_rate=0.5, landmark_rate=0.0), 0, 0, 16, 16)
    straight = np.isin(cells.mask, STRAIGHTS) & np.isin(cells.kind, (CORRIDOR, DOORWAY))
    assert (cells.kind[straight] == DOORWAY).mean() == pytest.approx(0.5, abs=0.05)


def test_the_variation_knob_gives_a_new_world_for_the_same_seed() -> None:
    from backrooms.params import ParamStore

    store = ParamStore()
    plain = LayoutSpec.from_params(7, store.snapshot())
    store.update({"world.variation": 1})
    varied = LayoutSpec.from_params(7, store.snapshot())
    a, b = generate_block(plain, 0, 0, 1, 1), generate_block(varied, 0, 0, 1, 1)
    assert (a.mask != b.mask).mean() > 0.3


def test_every_landmark_the_layout_marks_gets_its_prop_at_the_asked_rate() -> None:
    """Over a large region the placed landmark prototypes are ``landmark_rate`` of the corridor cells
    (before corner and tee landmarks existed, 55 % of the marked cells fell back to a plain corridor)."""
    cells = generate_region(spec(seed=3, landmark_rate=0.02), -128, -128, 128, 128)
    lib = shared_library()
    placed = PlacementTable(lib).place(cells).prototype
    landmark = np.array([p.family == "landmark" for p in lib.prototypes])[np.maximum(placed, 0)] & (
        placed >= 0
    )
    corridor_like = np.isin(cells.kind, (1, 4, LANDMARK))
    assert (landmark == (cells.kind == LANDMARK)).all()
    assert landmark.sum() / corridor_like.sum() == pytest.approx(0.02, rel=0.1)
