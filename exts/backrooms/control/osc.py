"""OSC in: packets -> checked parameter changes, served over UDP (our loop) and TCP (python-osc's server).

:class:`OscReceiver` is the whole protocol logic and never raises: every failure is counted in the
:class:`Tally` by kind. The TCP server calls it through python-osc's dispatcher hook
``call_handlers_for_packet``; we do not use python-osc's Dispatcher because it sleeps on future
timetags (blocking the server) and hands handlers no timetag. Here a bundle's timetag is passed to
the :class:`Inbox`, which applies it on the frame it names.

A flood must not slow the frame loop (it shares the interpreter with the servers' threads), so UDP
is read by a process of its own (:mod:`backrooms.control.udp_reader`) that hands over batches: plain
messages that set one number are coalesced by address before they are parsed (only the last of each
address in a batch is read; the earlier ones would be replaced anyway), and a batch's immediate
changes reach the inbox in one submit.
"""

from __future__ import annotations

import contextlib
import re
import socket
import socketserver
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from pythonosc import osc_tcp_server, slip

from backrooms.control.access import AllowList, listening
from backrooms.control.addresses import AddressTable
from backrooms.control.inbox import Inbox
from backrooms.control.packet import MAX_PACKET, PacketError, parse_packet
from backrooms.control.tally import Tally
from backrooms.control.udp_reader import Batch, coalesce, start_reader
from backrooms.control.values import Rejected, from_osc
from backrooms.params.registry import Param

PATTERN_CHARS = set("*?[]{}")
MAX_SEGMENTS = 8
PATTERN_CACHE = 512
MAX_TCP_CONNECTIONS = 16  # one thread each; the next connection is closed at once (counted)
TCP_IDLE_SECONDS = 300.0  # a connection silent this long is closed, so idle ones cannot hold every slot

Command = Callable[[tuple[Any, ...]], None]


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """OSC 1.0 address pattern -> regex (``*``, ``?``, ``[a-z]``, ``[!a]``, ``{a,b}``), linear-time safe."""
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
            while i + 1 < len(pattern) and pattern[i + 1] == "*":
                i += 1  # collapse runs of stars: no backtracking blow-up
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                raise PacketError("bad_pattern", "unclosed [")
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            if not body:
                raise PacketError("bad_pattern", "empty []")
            out.append(f"[{'^' if negate else ''}{_char_class(body)}]")
            i = end
        elif c == "{":
            end = pattern.find("}", i + 1)
            if end < 0:
                raise PacketError("bad_pattern", "unclosed {")
            out.append("(?:" + "|".join(re.escape(p) for p in pattern[i + 1 : end].split(",")) + ")")
            i = end
        elif c in "]}":
            raise PacketError("bad_pattern", f"unmatched {c}")
        else:
            out.append(re.escape(c))
        i += 1
    try:
        return re.compile("".join(out) + r"\Z")
    except re.error as exc:
        raise PacketError("bad_pattern", str(exc)) from None


def _char_class(body: str) -> str:
    """The inside of an OSC ``[...]``: ``a-z`` ranges, every other character literal."""
    out = []
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            out.append(f"{re.escape(body[i])}-{re.escape(body[i + 2])}")
            i += 3
        else:
            out.append(re.escape(body[i]) if body[i] != "-" else r"\-")
            i += 1
    return "".join(out)


class OscReceiver:
    """Turns OSC packets into parameter changes in the inbox; counts, never raises."""

    def __init__(self, addresses: AddressTable, inbox: Inbox, tally: Tally) -> None:
        self.addresses = addresses
        self.registry = addresses.registry
        self.inbox = inbox
        self.tally = tally
        self.commands: dict[str, Command] = {}
        self._exact = {a.path: (a.param, a.native) for a in addresses}
        self._patterns: OrderedDict[str, list[tuple[Param, bool]]] = OrderedDict()
        self._pattern_lock = threading.Lock()

    def call_handlers_for_packet(self, data: bytes, client_address: Any) -> list:
        """The python-osc dispatcher hook used by its UDP and TCP servers."""
        self.handle_packet(data)
        return []

    def handle_packet(self, data: bytes) -> None:
        self.handle_packets([data])

    def handle_packets(self, packets: list[bytes]) -> None:
        """Packets in arrival order; a plain number to an address that comes again later is skipped."""
        immediate: dict[str, Any] = {}
        for data in coalesce(packets):
            self._collect(data, immediate)
        self.inbox.submit(immediate)

    def _collect(self, data: bytes, immediate: dict[str, Any]) -> None:
        """Add a packet's immediate changes to ``immediate``; submit its timetagged ones (in order)."""
        try:
            messages = parse_packet(data)
        except PacketError as exc:
            self.tally.add(exc.kind, exc.detail)
            return
        except Exception as exc:  # a parser bug must not stop the server; count it instead
            self.tally.add("internal", repr(exc))
            return
        # Messages of one bundle (one timetag) reach the frame loop together, as OSC 1.0 asks.
        groups: dict[float | None, dict[str, Any]] = {}
        for message in messages:
            try:
                changes = self._changes(message.address, message.args)
            except (PacketError, Rejected) as exc:
                self.tally.add(exc.kind, exc.detail)
                continue
            except Exception as exc:
                self.tally.add("internal", repr(exc))
                continue
            groups.setdefault(message.when, {}).update(changes)
        for when, changes in groups.items():
            if when is None:
                immediate.update(changes)
            elif changes:
                self.inbox.submit(immediate)  # what arrived earlier stays earlier
                immediate.clear()
                self.inbox.submit(changes, when)

    def _changes(self, address: str, args: tuple[Any, ...]) -> dict[str, Any]:
        command = self.commands.get(address)
        if command is not None:
            command(args)
            return {}
        targets = self._resolve(address)
        if not targets:
            raise PacketError("unknown_address", address[:80])
        current = self.inbox.target
        return {param.key: from_osc(param, args, current(param.key), native) for param, native in targets}

    def _resolve(self, address: str) -> list[tuple[Param, bool]]:
        hit = self._exact.get(address)
        if hit is not None:
            return [hit]
        if not PATTERN_CHARS.intersection(address):
            return []
        if address.count("/") > MAX_SEGMENTS:
            raise PacketError("pattern_too_deep", f"{address.count('/')} levels > {MAX_SEGMENTS}")
        with self._pattern_lock:
            cached = self._patterns.get(address)
            if cached is not None:
                self._patterns.move_to_end(address)
                return cached
        regex = _pattern_regex(address)
        matched = [hit for addr, hit in self._exact.items() if regex.match(addr)]
        with self._pattern_lock:
            self._patterns[address] = matched
            if len(self._patterns) > PATTERN_CACHE:
                self._patterns.popitem(last=False)
        return matched


class _UdpServer:
    """OSC over UDP: a reader process takes the datagrams; a thread here handles its batches."""

    max_packet_size = MAX_PACKET + 4  # larger datagrams arrive truncated and are counted as oversized

    def __init__(self, address: tuple[str, int], receiver: OscReceiver, allow: AllowList) -> None:
        self.receiver = receiver
        self.received = 0
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
            self.socket.bind(address)
            self.server_address = self.socket.getsockname()
            self._reader, self._conn = start_reader(self.socket, allow, self.max_packet_size)
        except BaseException:
            self.socket.close()
            raise
        self._finished = threading.Event()

    def serve_forever(self, poll_interval: float = 0.1) -> None:
        """Handle batches until the reader stops (``poll_interval`` is unused: the pipe wakes us)."""
        try:
            while True:
                try:
                    batch: Batch = self._conn.recv()
                except (EOFError, OSError):
                    return
                self._handle(batch)
        finally:
            self._finished.set()

    def _handle(self, batch: Batch) -> None:
        read, packets, refused = batch
        self.received += read
        for sender, count in refused.items():
            for _ in range(count):
                self.receiver.tally.add("sender_not_allowed", sender)
        try:
            self.receiver.handle_packets(packets)
        except Exception as exc:  # the receiver never raises; if it ever did, the server goes on
            self.receiver.tally.add("internal", repr(exc))

    def shutdown(self) -> None:
        """Stop the reader and wait for the batches it sent to be handled."""
        with contextlib.suppress(OSError):  # the reader may be gone already
            self._conn.send(None)
        try:
            self._reader.wait(5)
        except subprocess.TimeoutExpired:
            self._reader.kill()
            self._reader.wait(5)
        self._finished.wait(5)

    def server_close(self) -> None:
        self._conn.close()
        self.socket.close()


class _TcpHandler(socketserver.BaseRequestHandler):
    """OSC over TCP: SLIP (OSC 1.1, python-osc's default) or 32-bit length prefixes (OSC 1.0).

    The framing is detected from the first byte (a length prefix under 16 MiB starts with 0).
    Buffers are bounded: a stream that exceeds them is counted and closed.
    """

    def handle(self) -> None:
        receiver: OscReceiver = self.server.dispatcher  # type: ignore[attr-defined]
        self.request.settimeout(TCP_IDLE_SECONDS)
        buffer = b""
        split = None
        while True:
            try:
                chunk = self.request.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            split = split or (_split_length if buffer[0] == 0 else _split_slip)
            try:
                packets, buffer = split(buffer)
            except PacketError as exc:
                receiver.tally.add(exc.kind, exc.detail)
                return
            for packet in packets:
                if packet is None:
                    receiver.tally.add("bad_slip", "invalid SLIP escape in a TCP frame")
                else:
                    receiver.handle_packet(packet)


def _split_length(buffer: bytes) -> tuple[list[bytes | None], bytes]:
    packets: list[bytes | None] = []
    while len(buffer) >= 4:
        size = int.from_bytes(buffer[:4], "big")
        if size > MAX_PACKET:
            raise PacketError("oversized", f"TCP frame of {size} bytes; connection closed")
        if len(buffer) < 4 + size:
            break
        packets.append(buffer[4 : 4 + size])
        buffer = buffer[4 + size :]
    return packets, buffer


def _split_slip(buffer: bytes) -> tuple[list[bytes | None], bytes]:
    *frames, rest = buffer.split(slip.END)
    if len(rest) > 2 * MAX_PACKET:
        raise PacketError("oversized", "SLIP frame too long; connection closed")
    packets: list[bytes | None] = []
    for frame in frames:
        if frame:
            try:
                packets.append(slip.decode(frame))
            except slip.ProtocolError:
                packets.append(None)
    return packets, rest


class _TcpServer(osc_tcp_server.ThreadingOSCTCPServer):
    """A thread per connection, at most ``MAX_TCP_CONNECTIONS`` at once."""

    daemon_threads = True  # not joined on close: a connected client must not hold up shutdown
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], receiver: OscReceiver, allow: AllowList) -> None:
        self.allow = allow
        self.slots = threading.BoundedSemaphore(MAX_TCP_CONNECTIONS)
        super().__init__(address, receiver)  # type: ignore[arg-type]
        self.RequestHandlerClass = _TcpHandler

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self.dispatcher.tally.add("too_many_connections", f"more than {MAX_TCP_CONNECTIONS} TCP clients")
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def verify_request(self, request: Any, client_address: Any) -> bool:
        if self.allow.permits(client_address[0]):
            return True
        self.dispatcher.tally.add("sender_not_allowed", client_address[0])
        return False

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.dispatcher.tally.add("internal", "TCP handler error")


class OscServers:
    """The UDP and TCP servers, each on its own daemon thread."""

    def __init__(
        self,
        receiver: OscReceiver,
        allow: AllowList,
        udp_port: int,
        tcp_port: int | None,
        names: tuple[str, str] = ("--osc-port", "--osc-tcp-port"),
    ) -> None:
        """``names``: what the user set the two ports with, for the line a taken port gives."""
        with listening(names[0], allow.bind, udp_port):
            self.udp = _UdpServer((allow.bind, udp_port), receiver, allow)
        self.tcp = None
        if tcp_port is not None:
            try:
                with listening(names[1], allow.bind, tcp_port):
                    self.tcp = _TcpServer((allow.bind, tcp_port), receiver, allow)
            except BaseException:
                self.udp.server_close()
                raise
        self._threads = []
        for server in (self.udp, self.tcp):
            if server is not None:
                thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.1},
                    name=f"osc-{type(server).__name__}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)

    @property
    def udp_port(self) -> int:
        return self.udp.server_address[1]

    @property
    def tcp_port(self) -> int | None:
        return self.tcp.server_address[1] if self.tcp else None

    def close(self) -> None:
        for server in (self.udp, self.tcp):
            if server is not None:
                server.shutdown()
                server.server_close()
