"""One address table: OSC, OSCQuery and the web preview list and accept exactly the same addresses."""

import json
import time
import urllib.request

import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

from backrooms.control.addresses import AddressTable
from backrooms.control.session import LiveOptions, LiveSession
from backrooms.params import REGISTRY, Registry


def registry() -> Registry:
    reg = Registry()
    reg.declare("decay", "noise", 0.5, "noise amount", min=0.0, max=2.0, unit="amp")
    reg.declare("decay", "preset", "lp", "tape speed", choices=("sp", "lp", "ep"))
    reg.declare("decay", "osd", False, "date stamp")
    reg.declare("render", "spp", 4, "samples per pixel", min=1, max=64)
    return reg


@pytest.fixture
def live():
    options = LiveOptions(osc_port=0, osc_tcp_port=None, oscquery_port=0, preview_port=0, announce=False)
    with LiveSession(registry(), {}, 30, lambda f, s: np.zeros((4, 4, 4), np.uint8), options) as session:
        yield session


def get(port: int, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return json.loads(response.read())


def oscquery_leaves(node: dict) -> set[str]:
    found = {node["FULL_PATH"]} if "TYPE" in node else set()
    for child in node.get("CONTENTS", {}).values():
        found |= oscquery_leaves(child)
    return found


def test_only_ranged_floats_have_a_native_address():
    table = AddressTable(registry())
    assert table.paths() == [
        "/backrooms/decay/noise",
        "/backrooms/decay/noise/native",
        "/backrooms/decay/preset",
        "/backrooms/decay/osd",
        "/backrooms/render/spp",
    ]
    assert [a.native for a in table] == [False, True, False, False, False]


def test_every_knob_of_the_real_registry_has_its_main_address_first():
    table = AddressTable(REGISTRY)
    for param in REGISTRY:
        assert table.for_param(param)[0].path == param.osc_address


def test_oscquery_and_preview_list_exactly_the_addresses_of_the_table(live):
    table = live.receiver.addresses
    assert oscquery_leaves(get(live.oscquery.port, "/")) == set(table.paths())
    listed = get(live.preview.port, "/params.json")["params"]
    assert [path for p in listed for path in p["addresses"]] == table.paths()


def test_an_address_outside_the_table_is_counted_and_changes_nothing(live):
    client = SimpleUDPClient("127.0.0.1", live.osc.udp_port)
    client.send_message("/backrooms/decay/preset/native", "ep")
    client.send_message("/backrooms/decay/preset", "sp")
    deadline = time.monotonic() + 5
    while live.inbox.target("decay.preset") != "sp" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert live.inbox.target("decay.preset") == "sp"
    assert live.tally.counts().get("unknown_address") == 1
