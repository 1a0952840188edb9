"""Bad values that pass the type check never end a live session: refused at the door, or rolled back.

A real session (render -> diffusion -> decay at a tiny size) listens on a real UDP socket; every text
and choice knob is sent a value it cannot use, and the session must keep playing with its values
unchanged.
"""

import threading
import time

import pytest
from pythonosc.udp_client import SimpleUDPClient

from backrooms.control.session import GraphFrames, LiveOptions, LiveSession
from backrooms.graph.recipe import load_recipe
from backrooms.params import REGISTRY, ParamError

# Values each text/choice knob's type check lets through (text for text, text for a choice) but that
# no node can use: named ones here, and for every other knob (present or added later) a generic one.
NAMED = {
    "diffusion.style": ["/nonexistent", "/etc", "", "x" * 4000],
    # a file diffusers would unpickle: any other than .safetensors, a folder without one
    "diffusion.lora": ["/nonexistent.safetensors", "x" * 4000, "/etc/passwd", "/etc"],
    "decay.osd_start": ["hello", "1997-02-30 00:00:00", "9999-99-99 99:99:99"],
}


def bad_values() -> dict[str, list]:
    bad = {}
    for param in REGISTRY:
        if param.choices:
            bad[param.key] = ["no-such-choice", ""]
        elif param.type is str:
            # A checked text knob gets names no check accepts; any text is a prompt, but a blob is not text.
            bad[param.key] = [*NAMED.get(param.key, ["/nonexistent/x"] if param.check else []), b"\x00\x01"]
    return bad


BAD = bad_values()


def test_the_named_knobs_exist_and_every_text_and_choice_knob_gets_bad_values():
    assert set(NAMED) <= set(BAD)
    assert set(BAD) == {p.key for p in REGISTRY if p.type is str or p.choices}


@pytest.fixture
def session():
    recipe = load_recipe(None).with_overrides(width=32, height=24, fps=50.0)
    assert {"render", "diffusion", "decay"} <= set(recipe.nodes)
    initial = dict(recipe.params) | {"decay.osd": True}
    options = LiveOptions(osc_port=0, osc_tcp_port=None, oscquery_port=None, preview_port=None)
    with LiveSession(REGISTRY, initial, recipe.fps, GraphFrames(recipe), options) as live:
        yield live


def _play_while(live: LiveSession, send, frames: int = 12) -> None:
    """Run the loop on a thread while ``send`` talks to it from the network."""
    failures = []

    def play():
        try:
            live.run(frames)
        except BaseException as exc:
            failures.append(exc)

    worker = threading.Thread(target=play)
    worker.start()
    send()
    worker.join(120)
    assert not worker.is_alive()
    assert not failures, failures


def test_bad_values_to_every_text_and_choice_knob_over_udp_leave_the_session_playing(session):
    before = session.store.snapshot()
    client = SimpleUDPClient("127.0.0.1", session.osc.udp_port)
    sent = 0

    def send():
        nonlocal sent
        time.sleep(0.2)
        for key, values in BAD.items():
            for value in values:
                client.send_message(REGISTRY[key].osc_address, value)
                sent += 1

    _play_while(session, send, frames=30)
    after = session.store.snapshot()
    assert {k: after[k] for k in BAD} == {k: before[k] for k in BAD}
    assert session.loop.frame == 30
    assert session.tally.total() == sent


def test_a_value_a_node_cannot_use_rolls_back_to_the_last_good_one(session, caplog):
    # "tensorrt" is a valid choice, but no TensorRT is installed here: the diffusion node fails on it.
    pytest.importorskip("torch")
    from backrooms.diffusion.backends.tensorrt_backend import tensorrt_available

    if tensorrt_available():
        pytest.skip("TensorRT is installed: this backend would load")
    client = SimpleUDPClient("127.0.0.1", session.osc.udp_port)
    _play_while(session, lambda: client.send_message("/backrooms/diffusion/backend", "tensorrt"), frames=8)
    assert session.store.get("diffusion.backend") == "auto"
    assert session.inbox.target("diffusion.backend") == "auto"
    assert session.tally.counts().get("refused_by_node") == 1
    assert "kept the last good diffusion.backend" in caplog.text


def test_a_neighbourhood_too_wide_to_load_rolls_back_and_the_show_goes_on(session, caplog):
    """Both world knobs at their tops load 331,776 cells (2.8 GB, 18 s); with every knob at its top
    the panels' light lists took 24 GB and the kernel killed the show. The pair is refused by the
    world and rolls back; nothing is generated for it."""
    client = SimpleUDPClient("127.0.0.1", session.osc.udp_port)

    def send():
        client.send_message("/backrooms/world/chunk_size", 64)
        client.send_message("/backrooms/world/load_radius", 4)

    _play_while(session, send, frames=10)
    assert (session.store.get("world.chunk_size"), session.store.get("world.load_radius")) == (16, 1)
    assert session.tally.counts().get("refused_by_node") == 1
    assert "loads 331,776 cells at once, more than 131,072" in caplog.text


@pytest.mark.parametrize(
    "key, value", [("decay.osd_start", "hello"), ("diffusion.style", "/etc"), ("diffusion.style", "/nope")]
)
def test_the_registry_refuses_unusable_text_in_one_line(key, value):
    with pytest.raises(ParamError) as refused:
        REGISTRY[key].coerce(value)
    assert str(refused.value).startswith(f"{key}: ") and "\n" not in str(refused.value)
