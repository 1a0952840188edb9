"""Scenes: save, recall at once, morph over frames; a bad scene file is one line and changes nothing."""

from __future__ import annotations

import json

import pytest

from backrooms.errors import UserError
from backrooms.params import REGISTRY, ParamStore
from backrooms.params.scenes import SceneBook, scenes_path


@pytest.fixture
def book(tmp_path):
    return SceneBook(scenes_path(tmp_path / "show.toml"), REGISTRY)


def test_a_saved_scene_comes_back_after_the_knobs_moved(book, tmp_path) -> None:
    store = ParamStore()
    store.update({"decay.noise": 2.5, "decay.preset": "ep", "render.flicker": 0.9})
    book.save("storm", store)
    assert (tmp_path / "show.scenes.json").exists()
    store.update({"decay.noise": 0.1, "decay.preset": "sp", "render.flicker": 0.0})
    changed = SceneBook(book.path, REGISTRY).recall("storm", store)  # read back from the file
    assert changed == {"decay.noise": 2.5, "decay.preset": "ep", "render.flicker": 0.9}
    assert store.get("decay.noise") == 2.5


def test_a_scene_of_one_node_leaves_the_others_alone(book) -> None:
    store = ParamStore()
    store.update({"decay.noise": 3.0, "render.flicker": 0.8})
    assert set(book.save("tape", store, node="decay")) == {
        k for k in store.snapshot() if k.startswith("decay.")
    }
    store.update({"decay.noise": 0.5, "render.flicker": 0.1})
    book.recall("tape", store)
    assert (store.get("decay.noise"), store.get("render.flicker")) == (3.0, 0.1)


def test_a_morph_glides_continuous_knobs_and_switches_the_others_half_way(book) -> None:
    store = ParamStore()
    store.update({"decay.noise": 4.0, "decay.preset": "ep"})
    book.save("end", store, node="decay")
    store.update({"decay.noise": 0.0, "decay.preset": "sp"})
    morph = book.morph("end", store, frames=4)
    steps = [morph.at(done) for done in range(1, 6)]
    assert [s["decay.noise"] for s in steps] == [1.0, 2.0, 3.0, 4.0, 4.0]  # the target from the last on
    assert [s["decay.preset"] for s in steps] == ["sp", "ep", "ep", "ep", "ep"]
    assert set(morph.target) == {"decay.noise", "decay.preset"}  # the decay knobs that differ, no other


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not a scenes file"),
        ('["a list"]', "expected"),
        ('{"s": {"decay.nosie": 1.0}}', "decay.nosie"),
        ('{"s": {"decay.noise": 99.0}}', "decay.noise"),
    ],
)
def test_a_bad_scene_file_is_one_line(tmp_path, text: str, says: str) -> None:
    path = tmp_path / "bad.scenes.json"
    path.write_text(text)
    with pytest.raises(UserError) as caught:
        SceneBook(path, REGISTRY)
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_recalling_an_unknown_scene_changes_nothing(book) -> None:
    store = ParamStore()
    before = dict(store.snapshot())
    with pytest.raises(UserError, match="no scene 'nowhere'"):
        book.recall("nowhere", store)
    assert dict(store.snapshot()) == before
    assert json.loads(json.dumps(before)) == before  # scenes are plain JSON values
