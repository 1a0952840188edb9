"""Who the live servers answer: DNS rebinding, CORS, zeroconf's listener, and the TCP connection cap.

Real sockets throughout: a websockets client that sends a forged ``Host`` with a matching ``Origin``
(what a page on a rebound DNS name sends), raw HTTP over TCP, raw OSC-over-TCP connections.
"""

import asyncio
import http.client
import json
import os
import socket
import threading
import time

import numpy as np
import pytest
import websockets
from pythonosc.osc_message_builder import OscMessageBuilder

from backrooms.control.osc import MAX_TCP_CONNECTIONS
from backrooms.control.session import LiveOptions, LiveSession
from backrooms.params import Registry


def registry() -> Registry:
    reg = Registry()
    reg.declare("decay", "noise", 1.0, "noise amount", min=0.0, max=8.0)
    return reg


@pytest.fixture
def live():
    options = LiveOptions(
        osc_port=0, osc_tcp_port=0, oscquery_port=0, preview_port=0, allow_hosts=["studio.lan"]
    )
    with LiveSession(registry(), {}, 30, lambda f, s: np.zeros((4, 4, 4), np.uint8), options) as session:
        yield session


def _ports(live):
    return {"preview": (live.preview.port, "/ws"), "oscquery": (live.oscquery.port, "/")}


def _play_over_websocket(port: int, path: str, host: str) -> None:
    """Connect to 127.0.0.1 as a browser on ``host`` would, and try to set decay.noise to 7.25."""

    async def scenario():
        uri = f"ws://{host}:{port}{path}"
        origin = f"http://{host}:{port}"
        async with websockets.connect(uri, host="127.0.0.1", port=port, origin=origin) as ws:
            if path == "/ws":
                await ws.send(json.dumps({"set": {"decay.noise": 7.25}}))
            else:
                builder = OscMessageBuilder("/backrooms/decay/noise/native")
                builder.add_arg(7.25)
                await ws.send(builder.build().dgram)
            await asyncio.sleep(0.2)

    asyncio.run(scenario())


@pytest.mark.parametrize("server", ["preview", "oscquery"])
def test_a_rebound_dns_name_cannot_open_a_websocket(live, server):
    port, path = _ports(live)[server]
    with pytest.raises(websockets.InvalidStatus, match="403"):
        _play_over_websocket(port, path, "evil.example")
    assert live.inbox.target("decay.noise") == 1.0


@pytest.mark.parametrize("server", ["preview", "oscquery"])
@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "studio.lan"])
def test_localhost_the_bound_address_and_allowed_names_can(live, server, host):
    port, path = _ports(live)[server]
    _play_over_websocket(port, path, host)
    assert live.inbox.target("decay.noise") == 7.25


def _get(port: int, host: str, path: str = "/", method: str = "GET") -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request(method, path, headers={"Host": f"{host}:{port}"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.mark.parametrize("server", ["preview", "oscquery"])
def test_http_answers_only_its_own_names_and_sends_no_cors_header(live, server):
    port, _ = _ports(live)[server]
    assert _get(port, "evil.example").status == 403
    assert _get(port, "127.0.0.1.evil.example").status == 403
    good = _get(port, "localhost")
    assert good.status == 200
    assert good.getheader("Access-Control-Allow-Origin") is None


@pytest.mark.parametrize("server", ["preview", "oscquery"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_a_request_to_change_something_is_refused_with_405(live, server, method):
    """Both servers only read; they answered a POST, PUT or DELETE as a GET, 200 and the table."""
    port, _ = _ports(live)[server]
    answer = _get(port, "localhost", "/", method)
    assert answer.status == 405 and answer.getheader("Allow") == "GET"
    assert _get(port, "localhost").status == 200


@pytest.mark.parametrize("path", ["/params.json", "/status.json"])
def test_the_preview_tables_answer_only_its_own_names(live, path):
    assert _get(live.preview.port, "evil.example", path).status == 403
    assert _get(live.preview.port, "localhost", path).status == 200


def test_a_page_command_outside_the_osc_command_table_is_counted_and_runs_nothing(live):
    ran = []
    live.receiver.commands["/backrooms/scene/recall"] = ran.append

    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{live.preview.port}/ws") as ws:
            await ws.send(json.dumps({"command": "/backrooms/nowhere", "args": ["x"]}))
            await ws.send(json.dumps({"command": "/backrooms/scene/recall", "args": ["grain"]}))
            await asyncio.sleep(0.3)

    asyncio.run(scenario())
    assert live.tally.counts() == {"bad_preview_command": 1}
    assert ran == [("grain",)]


def _udp_ports_of_this_process() -> set[tuple[str, int]]:
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        target = os.readlink(f"/proc/self/fd/{fd}") if os.path.exists(f"/proc/self/fd/{fd}") else ""
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    bound = set()
    with open("/proc/net/udp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            address, port = fields[1].split(":")
            if fields[9] in inodes:
                ip = socket.inet_ntoa(int(address, 16).to_bytes(4, "little"))
                bound.add((ip, int(port, 16)))
    return bound


@pytest.mark.skipif(not os.path.exists("/proc/net/udp"), reason="reads Linux's socket table")
def test_a_loopback_session_puts_no_zeroconf_listener_beyond_loopback():
    pytest.importorskip("zeroconf")
    options = LiveOptions(osc_port=0, osc_tcp_port=None, oscquery_port=0, preview_port=None, announce=True)
    with LiveSession(registry(), {}, 30, lambda f, s: np.zeros((4, 4, 4), np.uint8), options):
        time.sleep(0.5)
        bound = _udp_ports_of_this_process()
    assert bound, "the session's own OSC socket should be listed"
    assert all(ip == "127.0.0.1" for ip, _ in bound), bound


def test_tcp_connections_beyond_the_cap_are_closed_at_once_and_a_freed_slot_is_reused(live):
    port = live.osc.tcp_port
    before = threading.active_count()
    held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(MAX_TCP_CONNECTIONS)]
    time.sleep(0.3)
    extra = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(20)]
    for sock in extra:
        assert sock.recv(1) == b""  # closed by the server, not left hanging
        sock.close()
    assert threading.active_count() - before <= MAX_TCP_CONNECTIONS
    assert live.tally.counts().get("too_many_connections") == 20
    held.pop().close()
    time.sleep(0.3)
    builder = OscMessageBuilder("/backrooms/decay/noise/native")
    builder.add_arg(3.5)
    packet = builder.build().dgram
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(len(packet).to_bytes(4, "big") + packet)
        for _ in range(100):
            if live.inbox.target("decay.noise") == 3.5:
                break
            time.sleep(0.02)
    assert live.inbox.target("decay.noise") == 3.5
    for sock in held:
        sock.close()
