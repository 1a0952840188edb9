"""The live web preview: a local page that streams frames and has a control for every knob.

``GET /`` serves the page (``control/web/``); ``GET /params.json`` the registry, the current targets,
the knobs grouped by node (most-played first, see ``MOST_PLAYED``) and the OSC commands the page may
send; ``GET /status.json`` the loop's counters (achieved fps, dropped frames), each node's cost a
frame, the Link clock and the scene names, which the page polls. The WebSocket ``/ws`` streams
frames as binary messages (4-byte big-endian frame number, then a JPEG) and takes
``{"set": {key: value}}`` (native units), ``{"bang": key}`` (triggers, e.g. the tape events
``decay.event/<name>``), ``{"learn": key}`` (MIDI learn) and ``{"command": address, "args": [...]}``
(an OSC command such as ``/backrooms/scene/recall``, run by the same handler OSC runs). Each client
always gets the newest frame; a slow client skips frames instead of slowing the loop. WebSocket
handshakes from other web origins, and requests naming another Host, are refused, so a random web
page cannot play your knobs.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from PIL import Image
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from backrooms.control.access import AllowList
from backrooms.control.addresses import AddressTable
from backrooms.control.aio import Coalescer, LoopThread, refusal, respond, respond_json, send_quietly
from backrooms.control.inbox import Inbox
from backrooms.control.live import host_rgb
from backrooms.control.tally import Tally
from backrooms.control.values import Rejected, bang, native
from backrooms.params.registry import Param, ParamError, Registry
from backrooms.params.store import Snapshot

STATIC = {"/": ("index.html", "text/html"), "/preview.js": ("preview.js", "text/javascript")}
JPEG_QUALITY = 80
EVENT_PREFIX = "decay.event/"  # the tape's event triggers: buttons in the page's event bar

# "Most-played": the knobs a performer reaches for first, per node, in the order shown. The page
# shows the nodes in this order and these knobs on top of their node; every other knob waits under
# the node's "more" fold. This table is the only place that decides it.
MOST_PLAYED: dict[str, tuple[str, ...]] = {
    "decay": ("preset", "wear", "noise", "tracking", "snow", "jitter", "saturation", "osd"),
    "render": ("flicker", "blackout", "stutter", "exposure", "haze", "hum"),
    "camera": ("speed", "operator", "shake", "pause", "curiosity"),
    "camcorder": ("exposure", "focus", "bloom", "aberration", "gain_noise", "white_balance"),
    "diffusion": ("strength", "style", "prompt", "temporal_weight"),
    "audio": ("level", "hum", "crackle", "steps", "hiss", "wow", "speed"),
    "beat": ("follow", "knob", "depth", "decay"),
    "world": ("variation", "light_failure_rate", "flicker_rate"),
}

Status = Callable[[], Mapping[str, Any]]


def knob_groups(params: Iterable[Param]) -> list[dict[str, Any]]:
    """The page's knob list: one group per node (``MOST_PLAYED`` nodes first), each with its
    most-played knobs (``played``, in table order) and the rest (``more``, in registry order).
    Event triggers are left out: they have their own bar."""
    by_node: dict[str, list[Param]] = {}
    for param in params:
        if not param.key.startswith(EVENT_PREFIX):
            by_node.setdefault(param.node, []).append(param)
    order = [n for n in MOST_PLAYED if n in by_node] + [n for n in by_node if n not in MOST_PLAYED]
    groups = []
    for node in order:
        names = {p.name: p.key for p in by_node[node]}
        played = [names[n] for n in MOST_PLAYED.get(node, ()) if n in names]
        more = [p.key for p in by_node[node] if p.key not in played]
        groups.append({"node": node, "played": played, "more": more})
    return groups


def tape_events(registry: Registry) -> list[str]:
    """The keys of the fire-now tape event triggers (``decay.event/<name>``)."""
    return [p.key for p in registry if p.key.startswith(EVENT_PREFIX) and p.kind == "trigger"]


class _Client:
    def __init__(self, connection: ServerConnection) -> None:
        self.connection = connection
        self.frame_ready = asyncio.Event()


class PreviewServer:
    def __init__(
        self,
        aio: LoopThread,
        addresses: AddressTable,
        inbox: Inbox,
        tally: Tally,
        allow: AllowList,
        port: int,
        learn: Callable[[str], None] | None = None,
        commands: Mapping[str, Callable[[tuple[Any, ...]], None]] | None = None,
    ) -> None:
        """``commands`` is the OSC receiver's command table (address -> handler), shared, so commands
        added to it later (scenes) reach the page too; ``status`` sources may be appended at any time."""
        self.aio = aio
        self.addresses = addresses
        self.registry = addresses.registry
        self.inbox = inbox
        self.tally = tally
        self.allow = allow
        self.learn = learn
        self.commands = commands if commands is not None else {}
        self.status: list[Status] = []
        self._clients: set[_Client] = set()
        self._latest: tuple[int, np.ndarray] | None = None
        self._jpeg = b""
        self._frame_scheduled = False
        self.server = aio.serve(self._session, allow.bind, port, self._http)
        self.port = self.server.sockets[0].getsockname()[1]
        inbox.subscribe(Coalescer(aio, self._send_values).add)

    @property
    def url(self) -> str:
        return f"http://{self.allow.bind}:{self.port}/"

    def sink(self, frame: int, rgb: Any, snapshot: Snapshot) -> None:
        """Frame-loop sink: keep a copy of the newest frame when someone is watching."""
        if rgb is None or not self._clients:
            return
        self._latest = (frame, np.ascontiguousarray(host_rgb(rgb)[..., :3]))
        if not self._frame_scheduled:
            self._frame_scheduled = True
            self.aio.call_soon(self._encode)

    def _encode(self) -> None:
        self._frame_scheduled = False
        if self._latest is None:
            return
        frame, rgb = self._latest
        out = io.BytesIO()
        Image.fromarray(rgb).save(out, "JPEG", quality=JPEG_QUALITY)
        self._jpeg = frame.to_bytes(4, "big") + out.getvalue()
        for client in self._clients:
            client.frame_ready.set()

    def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        refused = refusal(connection, request, self.allow)
        if refused is not None:
            return refused
        path = urlsplit(request.path).path
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return None if path == "/ws" else respond(connection, HTTPStatus.NOT_FOUND, "the socket is /ws\n")
        if path == "/params.json":
            return respond_json(connection, self.table())
        if path == "/status.json":
            return respond_json(connection, self.state())
        if path in STATIC:
            name, kind = STATIC[path]
            text = resources.files("backrooms.control").joinpath("web", name).read_text(encoding="utf-8")
            return respond(connection, HTTPStatus.OK, text, kind)
        return respond(connection, HTTPStatus.NOT_FOUND, f"nothing at {path}\n")

    def table(self) -> dict[str, Any]:
        """What the page builds itself from: every knob, its value, how to group them, the commands."""
        return {
            "params": [self.addresses.describe(p) for p in self.registry],
            "values": self.inbox.targets(),
            "groups": knob_groups(self.registry),
            "events": tape_events(self.registry),
            "commands": sorted(self.commands),
        }

    def state(self) -> dict[str, Any]:
        """The readout: every status source's fields merged (the loop's counters, Link, scenes)."""
        merged: dict[str, Any] = {}
        for source in self.status:
            merged.update(source())
        return merged

    async def _session(self, connection: ServerConnection) -> None:
        client = _Client(connection)
        self._clients.add(client)
        sender = asyncio.ensure_future(self._stream(client))
        try:
            await connection.send(json.dumps({"values": self.inbox.targets()}))
            async for text in connection:
                self._command(text)
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)
            sender.cancel()

    async def _stream(self, client: _Client) -> None:
        try:
            while True:
                await client.frame_ready.wait()
                client.frame_ready.clear()
                await client.connection.send(self._jpeg)
        except ConnectionClosed:
            pass

    def _command(self, text: str | bytes) -> None:
        try:
            message = json.loads(text)
            if "set" in message:
                changes = {k: native(self.registry[k], v) for k, v in dict(message["set"]).items()}
                self.inbox.submit(changes)
            elif "bang" in message:
                key = message["bang"]
                self.inbox.submit({key: bang(self.registry[key], self.inbox.target(key))})
            elif "learn" in message and self.learn is not None:
                self.learn(self.registry[message["learn"]].key)
            elif "command" in message:
                self.commands[str(message["command"])](tuple(message.get("args", ())))
            else:
                self.tally.add("bad_preview_command", str(text)[:80])
        except Rejected as exc:
            self.tally.add(exc.kind, exc.detail)
        except (ValueError, TypeError, KeyError, AttributeError, ParamError) as exc:
            self.tally.add("bad_preview_command", f"{str(text)[:80]} ({exc})")

    def _send_values(self, values: dict[str, Any]) -> None:
        text = json.dumps({"values": values})
        for client in list(self._clients):
            self.aio.spawn(send_quietly(client.connection, text))

    def close(self) -> None:
        self.aio.stop_server(self.server)
