"""The live web preview: a local page that streams frames and has a control for every knob.

``GET /`` serves the page (``control/web/``), ``GET /params.json`` the registry and current
targets; the WebSocket ``/ws`` streams frames as binary messages (4-byte big-endian frame number,
then a JPEG) and takes ``{"set": {key: value}}`` (native units), ``{"bang": key}`` and
``{"learn": key}`` (MIDI learn) from the page. Each client always gets the newest frame; a slow
client skips frames instead of slowing the loop. WebSocket handshakes from other web origins are
refused, so a random web page cannot play your knobs.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
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
from backrooms.params.registry import ParamError
from backrooms.params.store import Snapshot

STATIC = {"/": ("index.html", "text/html"), "/preview.js": ("preview.js", "text/javascript")}
JPEG_QUALITY = 80


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
    ) -> None:
        self.aio = aio
        self.addresses = addresses
        self.registry = addresses.registry
        self.inbox = inbox
        self.tally = tally
        self.allow = allow
        self.learn = learn
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
            params = [self.addresses.describe(p) for p in self.registry]
            return respond_json(connection, {"params": params, "values": self.inbox.targets()})
        if path in STATIC:
            name, kind = STATIC[path]
            text = resources.files("backrooms.control").joinpath("web", name).read_text(encoding="utf-8")
            return respond(connection, HTTPStatus.OK, text, kind)
        return respond(connection, HTTPStatus.NOT_FOUND, f"nothing at {path}\n")

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
