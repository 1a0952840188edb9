"""A strict, bounded OSC 1.0 packet parser.

python-osc's own parser logs a warning per bad packet (on the root logger) and recurses into nested
bundles without a limit. A live server facing DAWs, fuzzers and broken controllers needs a parser
that raises one exception type carrying a short *kind* to count, and that gives each message the
timetag of its bundle so the frame loop, not the network thread, decides when it applies.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

MAX_PACKET = 16384
MAX_DEPTH = 8
MAX_ARGS = 32
MAX_ADDRESS = 256
BUNDLE = b"#bundle\x00"
NTP_UNIX_OFFSET = 2208988800
IMMEDIATE_TAG = 1


class Impulse:
    """The OSC ``I`` (impulse / infinitum) argument: a bang with no value."""

    def __repr__(self) -> str:
        return "IMPULSE"


IMPULSE = Impulse()


class PacketError(Exception):
    """A packet that cannot be used; ``kind`` names the failure for counting."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Message:
    """One OSC message; ``when`` is the bundle timetag in Unix seconds, None for "immediately"."""

    address: str
    args: tuple[Any, ...]
    when: float | None = None


def parse_packet(data: bytes) -> list[Message]:
    """All messages of a packet (nested bundles flattened), or PacketError."""
    if len(data) > MAX_PACKET:
        raise PacketError("oversized", f"{len(data)} bytes > {MAX_PACKET}")
    if not data:
        raise PacketError("empty")
    if len(data) % 4:
        raise PacketError("misaligned", f"{len(data)} bytes is not a multiple of 4")
    messages: list[Message] = []
    _parse_element(bytes(data), None, 0, messages)
    return messages


def _parse_element(data: bytes, when: float | None, depth: int, out: list[Message]) -> None:
    if data.startswith(BUNDLE):
        _parse_bundle(data, when, depth, out)
    elif data[:1] == b"/":
        out.append(_parse_message(data, when))
    else:
        raise PacketError("not_osc", "neither a message (/...) nor a bundle (#bundle)")


def _parse_bundle(data: bytes, outer: float | None, depth: int, out: list[Message]) -> None:
    if depth >= MAX_DEPTH:
        raise PacketError("bundle_too_deep", f"more than {MAX_DEPTH} nested bundles")
    if len(data) < 16:
        raise PacketError("truncated", "bundle without a timetag")
    (tag,) = struct.unpack_from(">Q", data, 8)
    when = None if tag == IMMEDIATE_TAG else (tag >> 32) - NTP_UNIX_OFFSET + (tag & 0xFFFFFFFF) / 2**32
    if outer is not None and (when is None or when < outer):
        when = outer  # a nested bundle may not fire before the bundle that holds it (OSC 1.0)
    index = 16
    while index < len(data):
        if index + 4 > len(data):
            raise PacketError("truncated", "bundle element size cut off")
        (size,) = struct.unpack_from(">i", data, index)
        index += 4
        if size <= 0 or size % 4 or index + size > len(data):
            raise PacketError("bad_element_size", f"element size {size}")
        _parse_element(data[index : index + size], when, depth + 1, out)
        index += size


def _read_string(data: bytes, index: int) -> tuple[str, int]:
    end = data.find(b"\x00", index)
    if end < 0:
        raise PacketError("truncated", "string without a terminating zero")
    try:
        text = data[index:end].decode("utf-8")
    except UnicodeDecodeError:
        raise PacketError("bad_string", "not UTF-8") from None
    return text, (end + 4) & ~3


_FIXED = {"i": (">i", 4), "f": (">f", 4), "h": (">q", 8), "d": (">d", 8), "t": (">Q", 8), "r": (">I", 4)}


def _parse_message(data: bytes, when: float | None) -> Message:
    address, index = _read_string(data, 0)
    if len(address) > MAX_ADDRESS:
        raise PacketError("address_too_long", f"{len(address)} characters > {MAX_ADDRESS}")
    if index >= len(data):
        return Message(address, (), when)  # OSC 1.0 allows a message without a type tag string
    tags, index = _read_string(data, index)
    if not tags.startswith(","):
        raise PacketError("bad_type_tag", "type tag string must start with ','")
    if len(tags) - 1 > MAX_ARGS:
        raise PacketError("too_many_arguments", f"{len(tags) - 1} > {MAX_ARGS}")
    args: list[Any] = []
    for tag in tags[1:]:
        if tag in _FIXED:
            fmt, size = _FIXED[tag]
            if index + size > len(data):
                raise PacketError("truncated", f"argument {tag!r} cut off")
            args.append(struct.unpack_from(fmt, data, index)[0])
            index += size
        elif tag in "sS":
            text, index = _read_string(data, index)
            args.append(text)
        elif tag == "b":
            if index + 4 > len(data):
                raise PacketError("truncated", "blob size cut off")
            (size,) = struct.unpack_from(">i", data, index)
            if size < 0 or index + 4 + size > len(data):
                raise PacketError("truncated", f"blob of {size} bytes")
            args.append(data[index + 4 : index + 4 + size])
            index = (index + 4 + size + 3) & ~3
        elif tag == "c":
            if index + 4 > len(data):
                raise PacketError("truncated", "char cut off")
            args.append(chr(data[index + 3]))
            index += 4
        elif tag == "m":
            if index + 4 > len(data):
                raise PacketError("truncated", "MIDI argument cut off")
            args.append(bytes(data[index : index + 4]))
            index += 4
        elif tag in "TFNI":
            args.append({"T": True, "F": False, "N": None, "I": IMPULSE}[tag])
        elif tag in "[]":
            raise PacketError("unsupported_type", "arrays are not accepted")
        else:
            raise PacketError("bad_type_tag", f"unknown type {tag!r}")
    if index != len(data):
        raise PacketError("trailing_bytes", f"{len(data) - index} bytes after the arguments")
    return Message(address, tuple(args), when)
