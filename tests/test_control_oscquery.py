"""OSCQuery: the namespace over real HTTP, and LISTEN value feedback over a real WebSocket client."""

import asyncio
import json
import urllib.error
import urllib.request

import numpy as np
import pytest
import websockets
from pythonosc.osc_message import OscMessage
from pythonosc.udp_client import SimpleUDPClient

from backrooms.control.session import LiveOptions, LiveSession
from backrooms.params import Registry


@pytest.fixture
def live():
    reg = Registry()
    reg.declare("decay", "noise", 0.5, "noise amount", min=0.0, max=2.0, unit="amp")
    reg.declare("decay", "preset", "lp", "tape speed", choices=("sp", "lp", "ep"))
    reg.declare("render", "spp", 4, "samples per pixel", min=1, max=64)
    options = LiveOptions(osc_port=0, osc_tcp_port=None, oscquery_port=0, preview_port=None)
    with LiveSession(reg, {}, 30, lambda f, s: np.zeros((4, 4, 4), np.uint8), options) as session:
        yield session


def get(live, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{live.oscquery.port}{path}", timeout=5) as response:
        return json.loads(response.read())


def test_root_lists_every_node_as_a_container(live):
    root = get(live, "/")
    assert sorted(root["CONTENTS"]["backrooms"]["CONTENTS"]) == ["decay", "render"]


def test_float_parameter_describes_normalized_range_and_native_child(live):
    node = get(live, "/backrooms/decay/noise")
    assert (node["TYPE"], node["RANGE"], node["VALUE"], node["ACCESS"]) == (
        "f",
        [{"MIN": 0.0, "MAX": 1.0}],
        [0.25],
        3,
    )
    native = node["CONTENTS"]["native"]
    assert (native["RANGE"], native["VALUE"], native["UNIT"]) == ([{"MIN": 0.0, "MAX": 2.0}], [0.5], ["amp"])
    assert node["DESCRIPTION"] == "noise amount"


def test_choice_parameter_lists_its_values(live):
    node = get(live, "/backrooms/decay/preset")
    assert (node["TYPE"], node["RANGE"], node["VALUE"]) == ("s", [{"VALS": ["sp", "lp", "ep"]}], ["lp"])


def test_single_attribute_query_follows_osc_changes(live):
    SimpleUDPClient("127.0.0.1", live.osc.udp_port).send_message("/backrooms/render/spp", 16)
    for _ in range(200):
        if get(live, "/backrooms/render/spp?VALUE") == {"VALUE": [16]}:
            break
        asyncio.run(asyncio.sleep(0.01))
    assert get(live, "/backrooms/render/spp?VALUE") == {"VALUE": [16]}


def test_host_info_names_the_osc_port_and_listen_extension(live):
    info = get(live, "/?HOST_INFO")
    assert (info["OSC_PORT"], info["OSC_TRANSPORT"], info["EXTENSIONS"]["LISTEN"]) == (
        live.osc.udp_port,
        "UDP",
        True,
    )


def test_unknown_path_is_404(live):
    with pytest.raises(urllib.error.HTTPError) as error:
        get(live, "/backrooms/decay/nothing")
    error.value.close()
    assert error.value.code == 404


def test_listen_streams_new_values_as_osc_and_ignore_stops_them(live):
    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{live.oscquery.port}/") as ws:
            await ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": "/backrooms/decay/noise/native"}))
            await asyncio.sleep(0.1)
            SimpleUDPClient("127.0.0.1", live.osc.udp_port).send_message("/backrooms/decay/noise", 1.0)
            first = OscMessage(await asyncio.wait_for(ws.recv(), 5))
            await ws.send(json.dumps({"COMMAND": "IGNORE", "DATA": "/backrooms/decay/noise/native"}))
            await asyncio.sleep(0.1)
            SimpleUDPClient("127.0.0.1", live.osc.udp_port).send_message("/backrooms/decay/noise", 0.0)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.5)
            return first

    first = asyncio.run(scenario())
    assert (first.address, first.params) == ("/backrooms/decay/noise/native", [2.0])


def test_binary_websocket_frames_are_osc_input(live):
    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{live.oscquery.port}/") as ws:
            await ws.send(b"/backrooms/decay/preset\x00,s\x00\x00ep\x00\x00")
            for _ in range(200):
                if live.inbox.target("decay.preset") == "ep":
                    return
                await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert live.inbox.target("decay.preset") == "ep"


def test_websocket_from_another_web_origin_is_refused(live):
    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{live.oscquery.port}/", origin="http://evil.example"):
            pass

    with pytest.raises(websockets.InvalidStatus, match="403"):
        asyncio.run(scenario())


def test_a_session_beyond_loopback_is_announced_as_oscjson_over_zeroconf():
    zeroconf = pytest.importorskip("zeroconf")
    reg = Registry()
    reg.declare("decay", "noise", 0.5, "noise amount", min=0.0, max=2.0)
    options = LiveOptions(
        bind="0.0.0.0",
        allow_remote=True,
        osc_port=0,
        osc_tcp_port=None,
        oscquery_port=0,
        preview_port=None,
        announce=True,
    )
    with LiveSession(reg, {}, 30, lambda f, s: np.zeros((4, 4, 4), np.uint8), options) as live:
        browser = zeroconf.Zeroconf(interfaces=["127.0.0.1"], ip_version=zeroconf.IPVersion.V4Only)
        try:
            info, kind = None, "_oscjson._tcp.local."
            for _ in range(10):
                info = browser.get_service_info(kind, f"backrooms.{kind}", 1000)
                if info is not None:
                    break
        finally:
            browser.close()
        assert info is not None and info.port == live.oscquery.port
