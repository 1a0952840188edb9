"""OSC in: the value rule of docs/osc.md, wildcards, triggers, timetagged bundles, UDP and TCP framings."""

import socket
import struct
import threading
import time

import numpy as np
import pytest
from pythonosc import slip
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.tcp_client import SimpleTCPClient
from pythonosc.udp_client import SimpleUDPClient

from backrooms.control.access import AllowList
from backrooms.control.session import LiveOptions, LiveSession
from backrooms.errors import UserError
from backrooms.params import Registry


def registry() -> Registry:
    reg = Registry()
    reg.declare("decay", "noise", 0.2, "noise amount", min=0.0, max=2.0, unit="amp")
    reg.declare("decay", "bleed", 0.0, "chroma bleed", min=0.0, max=1.0)
    reg.declare("decay", "preset", "lp", "tape speed", choices=("sp", "lp", "ep"))
    reg.declare("render", "spp", 1, "samples", min=1, max=64)
    reg.declare("world", "variation", 0, "new world", min=0, max=3, kind="trigger")
    return reg


def frame_value(frame: int, snapshot) -> np.ndarray:
    return np.zeros((8, 8, 4), np.uint8)


@pytest.fixture
def session():
    options = LiveOptions(osc_port=0, osc_tcp_port=0, oscquery_port=None, preview_port=None, smoothing=0)
    with LiveSession(registry(), {}, 50, frame_value, options) as live:
        yield live


def message(address: str, *args) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


def apply(live: LiveSession, *packets: bytes) -> dict:
    for packet in packets:
        live.receiver.handle_packet(packet)
    live.loop.step()
    return dict(live.store.snapshot())


def test_float_on_main_address_spans_the_parameter_range(session):
    assert apply(session, message("/backrooms/decay/noise", 0.25))["decay.noise"] == 0.5


def test_float_outside_zero_one_is_clamped_on_main_address(session):
    assert apply(session, message("/backrooms/decay/noise", 7.0))["decay.noise"] == 2.0


def test_native_address_takes_the_parameter_units(session):
    assert apply(session, message("/backrooms/decay/noise/native", 1.5))["decay.noise"] == 1.5


def test_int_argument_is_native_units(session):
    assert apply(session, message("/backrooms/render/spp", 16))["render.spp"] == 16


def test_choice_by_name_and_by_normalized_float(session):
    assert apply(session, message("/backrooms/decay/preset", "ep"))["decay.preset"] == "ep"
    assert apply(session, message("/backrooms/decay/preset", 0.0))["decay.preset"] == "sp"


def test_bang_steps_a_trigger_and_wraps_at_max(session):
    values = [apply(session, message("/backrooms/world/variation"))["world.variation"] for _ in range(4)]
    assert values == [1, 2, 3, 0]


def test_wildcard_sets_every_matching_parameter(session):
    values = apply(session, message("/backrooms/decay/{noise,bleed}", 1.0))
    assert (values["decay.noise"], values["decay.bleed"]) == (2.0, 1.0)


def test_bad_values_are_counted_and_leave_the_parameter_alone(session):
    values = apply(
        session,
        message("/backrooms/decay/noise", float("nan")),
        message("/backrooms/decay/preset", "xp"),
        message("/backrooms/nope/nothing", 1.0),
    )
    assert values["decay.noise"] == 0.2 and values["decay.preset"] == "lp"
    assert session.tally.counts() == {"not_finite": 1, "wrong_type": 1, "unknown_address": 1}


def test_udp_message_reaches_the_frame_loop(session):
    SimpleUDPClient("127.0.0.1", session.osc.udp_port).send_message("/backrooms/decay/bleed", 0.5)
    deadline = time.monotonic() + 5
    while session.inbox.target("decay.bleed") != 0.5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert apply(session)["decay.bleed"] == 0.5


def wait_for(live: LiveSession, key: str, value, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while live.inbox.target(key) != value:
        assert time.monotonic() < deadline, f"{key} never became {value!r}"
        time.sleep(0.01)


def test_tcp_slip_framing_python_osc_default(session):
    client = SimpleTCPClient("127.0.0.1", session.osc.tcp_port)
    client.send_message("/backrooms/decay/preset", "sp")
    wait_for(session, "decay.preset", "sp")
    client.close()


def test_tcp_length_prefixed_framing_osc_1_0(session):
    packet = message("/backrooms/render/spp", 32)
    with socket.create_connection(("127.0.0.1", session.osc.tcp_port)) as sock:
        sock.sendall(struct.pack(">I", len(packet)) + packet)
        wait_for(session, "render.spp", 32)


def test_tcp_stream_survives_a_bad_slip_frame(session):
    with socket.create_connection(("127.0.0.1", session.osc.tcp_port)) as sock:
        sock.sendall(slip.END + b"\xdb\x01" + slip.END + slip.encode(message("/backrooms/render/spp", 8)))
        wait_for(session, "render.spp", 8)
    assert session.tally.counts() == {"bad_slip": 1}


def test_future_bundle_applies_on_the_frame_it_names_without_blocking_the_server(session):
    seen: list[tuple[int, float, str]] = []
    session.loop.sinks.append(
        lambda f, rgb, snap: seen.append((f, snap["decay.bleed"], snap["decay.preset"]))
    )
    runner = threading.Thread(target=session.run, args=(40,))
    runner.start()
    while len(seen) < 2:  # past frame 0, which loads the kernels and starts the clock late
        time.sleep(0.01)
    when = time.time() + 0.4
    named = session.inbox.clock.frame_for(when)
    bundle = OscBundleBuilder(when)
    bundle.add_content(OscMessageBuilder("/backrooms/decay/bleed").build())  # no arg: rejected, counted
    inner = OscMessageBuilder("/backrooms/decay/bleed")
    inner.add_arg(1.0)
    bundle.add_content(inner.build())
    client = SimpleUDPClient("127.0.0.1", session.osc.udp_port)
    client.send(bundle.build())
    client.send_message("/backrooms/decay/preset", "ep")  # sent after the bundle, must not wait for it
    wait_for(session, "decay.preset", "ep")  # datagrams are handled in order: the bundle is in
    # A loop running late slips its clock (FrameClock), which moves the frame a timetag names
    # earlier; the bundle was scheduled between the two readings.
    named_after = session.inbox.clock.frame_for(when)
    runner.join()
    first_bleed = next(f for f, bleed, _ in seen if bleed == 1.0)
    first_preset = next(f for f, _, preset in seen if preset == "ep")
    assert named_after <= first_bleed <= named
    assert first_preset < named_after - 5


def test_binding_beyond_loopback_needs_allow_remote():
    with pytest.raises(UserError, match="--allow-remote"):
        AllowList("0.0.0.0")


def test_allow_list_admits_only_listed_senders_and_loopback():
    allow = AllowList("0.0.0.0", allow_remote=True, allow=["192.168.1.0/24"])
    assert [allow.permits(ip) for ip in ("192.168.1.7", "10.0.0.2", "127.0.0.1")] == [True, False, True]


def test_loopback_bind_refuses_remote_senders():
    assert not AllowList("127.0.0.1").permits("192.168.1.7")


def test_closing_a_session_does_not_wait_for_connected_tcp_clients():
    options = LiveOptions(osc_port=0, osc_tcp_port=0, oscquery_port=None, preview_port=None)
    live = LiveSession(registry(), {}, 50, frame_value, options)
    client = socket.create_connection(("127.0.0.1", live.osc.tcp_port))
    time.sleep(0.1)
    began = time.monotonic()
    live.close()
    client.close()
    assert time.monotonic() - began < 5


def test_bang_steps_a_discrete_choice_to_the_next_preset(session):
    assert apply(session, message("/backrooms/decay/preset"))["decay.preset"] == "ep"


def test_bang_on_a_continuous_knob_is_refused(session):
    assert apply(session, message("/backrooms/decay/noise"))["decay.noise"] == 0.2
    assert session.tally.counts() == {"missing_argument": 1}


def _lan_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # no packet is sent; this picks the outgoing interface
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_remote_sender_outside_the_allow_list_is_dropped_and_counted():
    lan = _lan_address()
    if lan is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    options = LiveOptions(
        bind="0.0.0.0",
        allow_remote=True,
        allow=["10.9.9.9"],
        osc_port=0,
        osc_tcp_port=None,
        oscquery_port=None,
        preview_port=None,
    )
    with LiveSession(registry(), {}, 50, frame_value, options) as live:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.bind((lan, 0))
            sender.sendto(message("/backrooms/render/spp", 9), (lan, live.osc.udp_port))
        SimpleUDPClient("127.0.0.1", live.osc.udp_port).send_message("/backrooms/decay/preset", "sp")
        wait_for(live, "decay.preset", "sp")
        assert live.inbox.target("render.spp") == 1
        assert live.tally.counts() == {"sender_not_allowed": 1}
