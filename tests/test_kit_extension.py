"""The extension's wiring, run against a STRICT RECORDING STAND-IN of omni.* (tests/kit_standin), not Kit.

What these tests can show: which calls the adapter makes (each bound against the real API's recorded
signature), that it gives back everything it took, and that OSC on a real UDP socket reaches the store
and the panel. What they cannot show: that Replicator, RTX or omni.ui behave as their sources say
(see docs/kit.md).
"""

import socket
import sys
import time

import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

import kit_standin
from backrooms.errors import UserError

W, H = 32, 24


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def kit(monkeypatch, tmp_path):
    recipe = tmp_path / "kit.toml"
    recipe.write_text('nodes = ["render", "decay"]\n[output]\nseed = 3\n')
    port = free_port()
    settings = {
        "/exts/backrooms/recipe": str(recipe),
        "/exts/backrooms/osc_port": port,
        "/exts/backrooms/preview_width": W,
        "/exts/backrooms/preview_height": H,
    }
    rec = kit_standin.install(monkeypatch, settings)
    from backrooms.kit import BackroomsExtension

    ext = BackroomsExtension()
    ext.on_startup("backrooms-0.1.0")
    rec.port = port
    yield rec, ext
    if rec.live():
        ext.on_shutdown()


def rec_module(name):
    """A stand-in module by name (tests never import omni: only backrooms.kit may)."""
    return sys.modules[name]


def update(rec):
    """One Kit frame: call every live update subscription, as Kit's update event stream would."""
    for handle in rec.live("update_subscription"):
        handle.fn(None)


def test_startup_registers_the_hallway_randomizer(kit):
    rec, _ = kit
    ((args, _),) = rec.called("rep.randomizer.register")
    assert args[0].__name__ == "backrooms_hallway"


def test_startup_registers_decay_as_an_augmentation_and_an_ldrcolor_annotator(kit):
    rec, _ = kit
    from backrooms.kit.live import decay_augmentation

    ((args, kwargs),) = rec.called("rep.annotators.Augmentation.from_function")
    assert args[0] is decay_augmentation and kwargs == {"seed": 0}
    assert rec.called("rep.annotators.register_augmentation")[0][0][0] == "backrooms_decay"
    assert rec.called("rep.AnnotatorRegistry.get_annotator")[0] == (
        ("LdrColor",),
        {"device": "cpu", "do_array_copy": True},
    )
    assert rec.called("rep.annotators.register")[0][1]["name"] == "backrooms_vhs"


def test_the_backrooms_vhs_annotator_decays_ldrcolor_frames(kit):
    rec, _ = kit
    rep = rec_module("omni.replicator.core")
    vhs = rep.annotators.get("backrooms_vhs")
    vhs.attach(rep.create.render_product("/OmniverseKit_Persp", (W, H)))
    frame = np.full((H, W, 4), 128, np.uint8)
    rec.annotator_data["LdrColor"] = frame
    decayed = vhs.get_data()
    assert decayed.shape == frame.shape and decayed.dtype == np.uint8
    assert not np.array_equal(decayed, frame)


def test_startup_registers_a_replicator_writer_subclass(kit):
    rec, _ = kit
    ((args, _),) = rec.called("rep.WriterRegistry.register")
    rep = rec_module("omni.replicator.core")
    assert args[0].__name__ == "BackroomsWriter" and issubclass(args[0], rep.Writer)


def test_preview_attaches_one_annotator_per_aov_to_a_viewport_render_product(kit):
    rec, _ = kit
    (rp,) = rec.made("render_product")
    assert rp.info["camera"] == "/OmniverseKit_Persp" and rp.info["resolution"] == (W, H)
    attached = [h.info["name"] for h in rec.made("annotator_attachment")]
    assert attached == ["LdrColor", "distance_to_camera", "normals", "motion_vectors"]
    assert [args[0] for args, _ in rec.called("rep.Annotator.attach")] == [rp] * 4
    zero_copy = [a for a, kw in rec.called("rep.AnnotatorRegistry.get_annotator") if not kw["do_array_copy"]]
    assert zero_copy == [(name,) for name in attached]


def test_panel_has_one_control_per_registry_parameter(kit):
    rec, _ = kit
    from backrooms.params import REGISTRY

    triggers = [p for p in REGISTRY if p.kind == "trigger"]
    assert len(rec.made("value_changed_fn")) == len(REGISTRY) - len(triggers)
    assert len(rec.called("ui.Button")) == len(triggers)
    assert rec.called("ui.Window")[0][0] == ("Backrooms",)


def test_panel_fire_buttons_step_triggers_and_wrap_at_the_maximum(kit):
    rec, ext = kit
    from backrooms.params import REGISTRY

    triggers = [p for p in REGISTRY if p.kind == "trigger"]
    for param in triggers:
        ext.store.set(param.key, param.max)
    for _, kwargs in rec.called("ui.Button"):
        kwargs["clicked_fn"]()
    assert [ext.store.get(p.key) for p in triggers] == [p.min for p in triggers]
    for _, kwargs in rec.called("ui.Button"):
        kwargs["clicked_fn"]()
    assert [ext.store.get(p.key) for p in triggers] == [p.min + 1 for p in triggers]


def test_panel_edit_changes_the_store(kit):
    _, ext = kit
    model = ext.panel._models["decay.noise"][0]
    model.set_value(0.25)
    assert ext.store.get("decay.noise") == 0.25


def test_osc_on_a_real_socket_reaches_the_store_and_the_panel(kit):
    rec, ext = kit
    SimpleUDPClient("127.0.0.1", rec.port).send_message("/backrooms/decay/preset", "ep")
    deadline = time.monotonic() + 5
    while ext.store.get("decay.preset") != "ep" and time.monotonic() < deadline:
        time.sleep(0.02)
        update(rec)
    assert ext.store.get("decay.preset") == "ep"
    model = ext.panel._models["decay.preset"][0]
    assert model.value == ext.store.registry["decay.preset"].choices.index("ep")


def test_world_trigger_change_sends_the_reshuffle_event_from_the_update_loop(kit):
    rec, ext = kit
    ext.store.set("world.variation", 5)
    assert rec.called("rep.utils.send_og_event") == []
    update(rec)
    assert rec.called("rep.utils.send_og_event") == [((), {"event_name": "backrooms_reshuffle"})]


def test_panel_frames_are_published_as_a_dynamic_texture(kit):
    rec, _ = kit
    assert rec.called("ui.DynamicTextureProvider") == [(("backrooms_vhs",), {})]


def test_update_shows_the_decayed_preview_frame_in_the_panel(kit):
    rec, _ = kit
    rec.annotator_data["LdrColor"] = np.full((H, W, 4), 128, np.uint8)
    update(rec)
    ((args, _),) = rec.called("ui.ByteImageProvider.set_bytes_data")
    assert (len(args[0]), args[1]) == (W * H * 4, [W, H])


def test_shutdown_releases_everything_and_frees_the_osc_port(kit):
    rec, ext = kit
    assert {h.kind for h in rec.live()} >= {
        "render_product",
        "annotator_attachment",
        "window",
        "update_subscription",
        "value_changed_fn",
        "writer_registration",
        "annotator_registration",
    }
    ext.on_shutdown()
    assert rec.live() == []
    from backrooms.kit import live

    assert live.current() is None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", rec.port))


def test_failed_startup_releases_what_it_had_acquired(monkeypatch, tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        rec = kit_standin.install(monkeypatch, {"/exts/backrooms/osc_port": port})
        from backrooms.kit import BackroomsExtension

        with pytest.raises(UserError, match=f"setting /exts/backrooms/osc_port {port}: cannot listen"):
            BackroomsExtension().on_startup("backrooms-0.1.0")
    assert rec.handles and rec.live() == []


def test_hallway_triggers_reroll_every_variant_set_on_the_event_and_every_n_frames(kit):
    rec, _ = kit
    from backrooms.kit import hallway
    from backrooms.kit.walk import CELL_PATTERN
    from backrooms.world.layout import VARIANTS

    hallway.add_triggers(reshuffle_every=24)
    assert rec.called("rep.trigger.on_custom_event") == [((), {"event_name": "backrooms_reshuffle"})]
    assert rec.called("rep.trigger.on_frame") == [((), {"interval": 24})]
    assert rec.called("rep.get.prims")[0][1] == {"path_pattern": CELL_PATTERN}
    rolled = [args[0] for args, _ in rec.called("rep.modify.variant")]
    assert rolled == list(VARIANTS) * 2
