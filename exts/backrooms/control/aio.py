"""One asyncio event loop on a daemon thread, hosting the HTTP/WebSocket servers (OSCQuery, preview).

The frame loop and the OSC servers are plain threads; they hand work to this loop with
``call_soon`` (thread-safe), never the other way round, so no network client can stall a frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from backrooms.control.access import AllowList


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._thread = threading.Thread(target=self.loop.run_forever, name="control-aio", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 10.0) -> Any:
        """Run ``coro`` on the loop and wait for its result (from another thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def serve(
        self, handler: Callable[..., Any], host: str, port: int, process_request: Callable[..., Any]
    ) -> Any:
        """Start a websockets server (HTTP requests go to ``process_request``) on this loop."""

        async def start() -> Any:
            return await serve(handler, host, port, process_request=process_request)

        return self.run(start())

    def stop_server(self, server: Any, grace: float = 2.0) -> None:
        """Close a websockets server; clients that linger past ``grace`` seconds are dropped."""

        async def stop() -> None:
            server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), grace)

        self.run(stop())

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Start a fire-and-forget task (call on the loop thread); it is kept alive until done."""
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(fn, *args)

    def close(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)


def refusal(connection: ServerConnection, request: Request, allow: AllowList) -> Response | None:
    """The 403 for a request this server must not answer (sender not allowed, Host not ours), the
    405 for one that asks to change something (these servers only read: knobs move over OSC and
    the page's WebSocket), else None."""
    if not allow.permits(connection.remote_address[0]):
        return respond(connection, HTTPStatus.FORBIDDEN, "sender not allowed\n")
    if request.method != "GET":
        refused = respond(
            connection, HTTPStatus.METHOD_NOT_ALLOWED, f"{request.method[:20]}: only GET here\n"
        )
        refused.headers["Allow"] = "GET"
        return refused
    if not allow.permits_host(request.headers.get("Host")):
        name = (request.headers.get("Host") or "")[:80]
        return respond(connection, HTTPStatus.FORBIDDEN, f"Host {name!r} is not this server (--allow-host)\n")
    websocket = request.headers.get("Upgrade", "").lower() == "websocket"
    if websocket and cross_origin(request):
        return respond(connection, HTTPStatus.FORBIDDEN, "cross-origin WebSocket refused\n")
    return None


def cross_origin(request: Request) -> bool:
    """A browser handshake from another web origin (native clients send no Origin header)."""
    origin = request.headers.get("Origin")
    return bool(origin) and urlsplit(origin).netloc != request.headers.get("Host")


def respond(
    connection: ServerConnection, status: HTTPStatus, body: str, content_type: str = "text/plain"
) -> Response:
    """A plain HTTP response from a websockets server (used by ``process_request`` hooks)."""
    response = connection.respond(status, body)
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = f"{content_type}; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"  # no CORS header: pages of other origins may not read
    return response


def respond_json(connection: ServerConnection, data: Any, status: HTTPStatus = HTTPStatus.OK) -> Response:
    return respond(connection, status, json.dumps(data), "application/json")


class Coalescer:
    """Collects changes from any thread and hands them to ``flush`` on the loop, once per burst.

    A flood of 10,000 OSC messages a second thus costs the loop one callback per burst, not one per
    message, and the newest value of each key wins.
    """

    def __init__(self, aio: LoopThread, flush: Callable[[dict[str, Any]], None]) -> None:
        self._aio = aio
        self._flush = flush
        self._pending: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._scheduled = False

    def add(self, changes: dict[str, Any]) -> None:
        with self._lock:
            self._pending.update(changes)
            schedule, self._scheduled = not self._scheduled, True
        if schedule:
            self._aio.call_soon(self._drain)

    def _drain(self) -> None:
        with self._lock:
            pending, self._pending, self._scheduled = self._pending, {}, False
        self._flush(pending)


async def send_quietly(connection: ServerConnection, data: str | bytes) -> None:
    """Send without caring whether the client has just gone away."""
    with contextlib.suppress(ConnectionClosed):
        await connection.send(data)
