"""The registry: every knob declared once, bad values refused with one line."""

import json

import pytest

from backrooms.params import ParamError, ParamStore, Registry, parse_assignment


@pytest.fixture
def registry() -> Registry:
    reg = Registry()
    reg.declare("decay", "noise", 0.5, "master noise", min=0.0, max=1.0)
    reg.declare("decay", "preset", "sp", "tape preset", choices=("sp", "lp", "ep"))
    reg.declare("render", "spp", 1, "samples per pixel", min=1, max=64)
    reg.declare("render", "haze", True, "distance haze")
    return reg


def test_osc_address_follows_node_and_name(registry):
    assert registry["decay.noise"].osc_address == "/backrooms/decay/noise"
    assert registry.by_address("/backrooms/render/spp") is registry["render.spp"]


def test_assignment_parses_text_into_the_declared_type(registry):
    assert parse_assignment("render.spp=4", registry) == ("render.spp", 4)
    assert parse_assignment("decay.noise = 0.25", registry) == ("decay.noise", 0.25)
    assert parse_assignment("render.haze=off", registry) == ("render.haze", False)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("decay.nois=0.1", "did you mean decay.noise"),
        ("decay.noise=loud", "expected a number"),
        ("decay.noise=1.5", "outside 0.0..1.0"),
        ("decay.noise=nan", "not a finite number"),
        ("render.spp=2.5", "whole number"),
        ("decay.preset=vhs", "not one of sp, lp, ep"),
        ("decay.noise", "expected node.param=value"),
    ],
)
def test_bad_assignment_is_one_line_naming_the_problem(registry, text, fragment):
    with pytest.raises(ParamError) as info:
        parse_assignment(text, registry)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_redeclaring_with_another_spec_is_a_programming_error(registry):
    with pytest.raises(ValueError):
        registry.declare("decay", "noise", 0.7, "master noise", min=0.0, max=1.0)


def test_rejected_update_leaves_the_store_unchanged(registry):
    store = ParamStore(registry)
    with pytest.raises(ParamError):
        store.update({"decay.noise": 0.9, "render.spp": 1000})
    assert store.snapshot()["decay.noise"] == 0.5
    assert store.snapshot().version == 0


def test_snapshot_is_immutable_and_grouped_by_node(registry):
    snap = ParamStore(registry).snapshot()
    assert snap.node("render") == {"spp": 1, "haze": True}
    with pytest.raises(TypeError):
        snap._values["render.spp"] = 3


def test_the_global_registry_holds_every_knob_without_any_other_import():
    import subprocess
    import sys

    code = (
        "from backrooms.params import REGISTRY; "
        "print(len(REGISTRY), 'world.variation' in REGISTRY, 'decay.noise' in REGISTRY, "
        "'camera.speed' in REGISTRY, 'diffusion.strength' in REGISTRY, 'render.spp' in REGISTRY)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    count, *present = out.split()
    assert int(count) > 50 and present == ["True"] * 5


def test_the_whole_table_comes_without_torch_and_the_nodes_declare_nothing_more():
    """The registry reads its knobs from the parameter modules alone (``catalog.PARAM_MODULES``), so
    ``backrooms params``, ``layout`` and ``decay`` start without torch or scipy (1 s instead of 3.6);
    a knob declared in a node's own module would be missing until that node was imported."""
    import subprocess
    import sys

    code = (
        "import sys; from backrooms.params import REGISTRY; before = [p.key for p in REGISTRY]; "
        "heavy = [m for m in ('torch', 'scipy') if m in sys.modules]; "
        "from backrooms.graph.catalog import CATALOG; [CATALOG.node_class(kind) for kind in CATALOG]; "
        "print(heavy, [p.key for p in REGISTRY] == before, len(before))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    heavy, same, count = out.rsplit(" ", 2)
    assert heavy == "[]" and same == "True" and int(count) > 50


def test_params_table_shows_the_value_the_built_in_recipe_renders_with(capsys):
    from backrooms.cli import main

    assert main(["params", "decay"]) == 0
    row = next(
        line.split() for line in capsys.readouterr().out.splitlines() if line.startswith("decay.preset")
    )
    assert row[:4] == ["decay.preset", "str", "lp*", "sp"]  # value from the recipe, then the registry default
    assert main(["params", "--json", "decay"]) == 0
    preset = next(p for p in json.loads(capsys.readouterr().out) if p["key"] == "decay.preset")
    assert (preset["value"], preset["default"]) == ("lp", "sp")
