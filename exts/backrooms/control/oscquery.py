"""OSCQuery: the namespace as JSON over HTTP, and value feedback over the WebSocket LISTEN extension.

Follows Vidvox's OSCQuery proposal: ``GET /path`` returns the node (``FULL_PATH``, ``CONTENTS``,
``TYPE``, ``RANGE``, ``VALUE``, ``ACCESS``, ``DESCRIPTION``, ``UNIT``, ``CLIPMODE``), ``GET
/path?ATTR`` one attribute, ``GET /?HOST_INFO`` the server's description. A WebSocket on the same
port takes ``{"COMMAND": "LISTEN"|"IGNORE", "DATA": path}``; listened paths get each new target
value as a binary OSC message. Binary frames from the client are OSC packets and are applied.

Float parameters appear twice: the main address with RANGE 0..1 (the DAW convention) and
``<address>/native`` with the parameter's own range and unit; other parameters take native values
on their main address (see docs/osc.md).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from pythonosc.osc_message_builder import OscMessageBuilder
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from backrooms.control.access import AllowList
from backrooms.control.addresses import NATIVE, AddressTable, has_normalized_address
from backrooms.control.aio import Coalescer, LoopThread, refusal, respond, respond_json, send_quietly
from backrooms.control.inbox import Inbox
from backrooms.control.osc import OscReceiver
from backrooms.control.values import normalized
from backrooms.params.registry import Param, Registry

ACCESS_READ_WRITE = 3
EXTENSIONS = ("ACCESS", "VALUE", "RANGE", "DESCRIPTION", "UNIT", "CLIPMODE", "LISTEN")


def _osc_type(param: Param, value: Any) -> str:
    if param.type is bool:
        return "T" if value else "F"
    return {int: "i", float: "f", str: "s"}[param.type]


def feedback(param: Param, value: Any) -> list[tuple[str, Any]]:
    """The (address, value) pairs that tell a listener about a new target value."""
    if has_normalized_address(param):
        return [(param.osc_address, normalized(param, value)), (param.osc_address + NATIVE, value)]
    return [(param.osc_address, value)]


class Namespace:
    """The OSCQuery tree built from the registry; values are read live from the inbox's targets."""

    def __init__(self, addresses: AddressTable, inbox: Inbox, host_info: dict[str, Any]) -> None:
        self.inbox = inbox
        self.host_info = host_info
        self._leaves = {a.path: (a.param, a.native) for a in addresses}

    def node(self, path: str) -> dict[str, Any] | None:
        path = "/" + path.strip("/") if path.strip("/") else "/"
        if path in self._leaves:
            return self._leaf(path)
        prefix = "" if path == "/" else path
        children = sorted(
            {a[len(prefix) + 1 :].split("/", 1)[0] for a in self._leaves if a.startswith(prefix + "/")}
        )
        if not children:
            return None
        return {
            "FULL_PATH": path,
            "ACCESS": 0,
            "DESCRIPTION": "backrooms live parameters" if path == "/" else f"{path} parameters",
            "CONTENTS": {name: self.node(f"{prefix}/{name}") for name in children},
        }

    def _leaf(self, path: str) -> dict[str, Any]:
        param, native = self._leaves[path]
        value = self.inbox.target(param.key)
        node: dict[str, Any] = {
            "FULL_PATH": path,
            "ACCESS": ACCESS_READ_WRITE,
            "DESCRIPTION": param.description + (" (native units)" if native else ""),
            "TYPE": _osc_type(param, value),
        }
        if param.choices:
            node["RANGE"] = [{"VALS": list(param.choices)}]
        elif has_normalized_address(param) and not native:
            node["RANGE"] = [{"MIN": 0.0, "MAX": 1.0}]
            value = normalized(param, value)
        elif param.min is not None and param.max is not None and param.type is not bool:
            node["RANGE"] = [{"MIN": param.min, "MAX": param.max}]
        if "RANGE" in node:
            node["CLIPMODE"] = "both"
        node["VALUE"] = [value]
        if param.unit and (native or not has_normalized_address(param)):
            node["UNIT"] = [param.unit]
        if has_normalized_address(param) and not native:
            node["CONTENTS"] = {"native": self._leaf(path + NATIVE)}
        return node

    def respond(self, connection: ServerConnection, target: str) -> Response:
        parts = urlsplit(target)
        path, attribute = unquote(parts.path), parts.query
        if attribute == "HOST_INFO":
            return respond_json(connection, self.host_info)
        node = self.node(path)
        if node is None:
            return respond(connection, HTTPStatus.NOT_FOUND, f"no OSC node at {path}\n")
        if not attribute:
            return respond_json(connection, node)
        if attribute not in ("FULL_PATH", "CONTENTS", "TYPE", *EXTENSIONS):
            return respond(connection, HTTPStatus.BAD_REQUEST, f"unknown attribute {attribute}\n")
        if attribute not in node:
            return respond(connection, HTTPStatus.NO_CONTENT, "")
        return respond_json(connection, {attribute: node[attribute]})


class OscQueryServer:
    """HTTP + WebSocket on one port, run on the shared asyncio thread."""

    def __init__(
        self,
        aio: LoopThread,
        registry: Registry,
        inbox: Inbox,
        receiver: OscReceiver,
        allow: AllowList,
        port: int,
        osc_ports: tuple[int, int | None],
    ) -> None:
        self.aio = aio
        self.registry = registry
        self.receiver = receiver
        self.allow = allow
        self._listeners: dict[ServerConnection, set[str]] = {}
        self.server = aio.serve(self._session, allow.bind, port, self._http)
        self.port = self.server.sockets[0].getsockname()[1]
        self.namespace = Namespace(
            receiver.addresses,
            inbox,
            {
                "NAME": "backrooms",
                "OSC_IP": allow.bind,
                "OSC_PORT": osc_ports[0],
                "OSC_TRANSPORT": "UDP",
                "WS_IP": allow.bind,
                "WS_PORT": self.port,
                "EXTENSIONS": {name: True for name in EXTENSIONS} | {"PATH_CHANGED": False, "TAGS": False},
            },
        )
        inbox.subscribe(Coalescer(aio, self._send_feedback).add)

    def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        refused = refusal(connection, request, self.allow)
        if refused is not None or request.headers.get("Upgrade", "").lower() == "websocket":
            return refused
        return self.namespace.respond(connection, request.path)

    async def _session(self, connection: ServerConnection) -> None:
        listening: set[str] = set()
        self._listeners[connection] = listening
        try:
            async for frame in connection:
                if isinstance(frame, bytes):
                    self.receiver.handle_packet(frame)
                    continue
                try:
                    command = json.loads(frame)
                    verb, path = command["COMMAND"], command["DATA"]
                except (ValueError, KeyError, TypeError):
                    self.receiver.tally.add("bad_oscquery_command", frame[:80])
                    continue
                if verb == "LISTEN" and isinstance(path, str):
                    listening.add(path)
                elif verb == "IGNORE" and isinstance(path, str):
                    listening.discard(path)
                else:
                    self.receiver.tally.add("bad_oscquery_command", frame[:80])
        except ConnectionClosed:
            pass
        finally:
            self._listeners.pop(connection, None)

    def _send_feedback(self, dirty: dict[str, Any]) -> None:
        if not self._listeners:
            return
        updates = [pair for key, value in dirty.items() for pair in feedback(self.registry[key], value)]
        for connection, listening in list(self._listeners.items()):
            for address, value in updates:
                if address in listening:
                    builder = OscMessageBuilder(address)
                    builder.add_arg(value)
                    self.aio.spawn(send_quietly(connection, builder.build().dgram))

    def close(self) -> None:
        self.aio.stop_server(self.server)
