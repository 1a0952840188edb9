"""OSC over UDP read in a process of its own, so a flood never takes the interpreter from the frame loop.

A thread of the live process that reads datagrams has to win the interpreter lock back from the
frame loop for every one of them (a DAW automating a few lanes sends 10,000 a second), and each
hand-over stalls the frame thread. This small spawned process reads the socket instead: it takes
every datagram already queued, drops those of senders the allow-list refuses, keeps only the last
plain-number message of each address (bangs, text and bundles stay, in order; a later number would
replace the earlier ones anyway) and sends what is left down a pipe at most every ``BATCH_SECONDS``.
The live process then wakes once per batch for a handful of packets.

The process is ``python -m backrooms.control.udp_reader`` (not multiprocessing, which would run the
caller's main script again in the child): it inherits the bound socket and one end of a socket pair,
reads the allow-list from stdin, and imports only the standard library and the allow-list.
"""

from __future__ import annotations

import os
import pickle
import select
import socket
import subprocess
import sys
from collections import Counter
from multiprocessing.connection import Connection

from backrooms.control.access import AllowList

MAX_BATCH = 1024  # datagrams read before they are sent on together
BATCH_SECONDS = 0.01  # least time between two batches (a quarter of a frame at 24 fps; adds <= 10 ms)
SENDERS = 1024  # allow-list verdicts remembered (checking an address costs more than reading a datagram)
NUMBER_TAGS = (b",f\x00\x00", b",i\x00\x00")

Batch = tuple[int, list[bytes], dict[str, int]]  # (datagrams read, packets kept, refused senders)


def number_setter(data: bytes) -> bytes | None:
    """The address of a plain message with one float or int argument (a later one replaces it), else None."""
    if not data.startswith(b"/"):
        return None
    end = data.find(b"\x00")
    tag = (end // 4 + 1) * 4
    if end < 0 or len(data) != tag + 8 or data[tag : tag + 4] not in NUMBER_TAGS:
        return None
    return data[:end]


def coalesce(packets: list[bytes]) -> list[bytes]:
    """``packets`` in order, less each plain-number message whose address comes again later."""
    keys = [number_setter(data) for data in packets]
    last = {key: i for i, key in enumerate(keys) if key is not None}
    kept = enumerate(zip(packets, keys, strict=True))
    return [data for i, (data, key) in kept if key is None or last[key] == i]


def read_batches(sock: socket.socket, conn: Connection, allow: AllowList, size: int) -> None:
    """The reader process: batches from ``sock`` to ``conn`` until the parent writes or hangs up."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    poller.register(conn.fileno(), select.POLLIN)
    verdicts: dict[str, bool] = {}
    while True:
        if any(fd == conn.fileno() for fd, _ in poller.poll()):
            return  # asked to stop, or the live process is gone
        read, packets, refused = 0, [], Counter()
        while read < MAX_BATCH:
            try:
                data, sender = sock.recvfrom(size, socket.MSG_DONTWAIT)
            except OSError:  # nothing more queued
                break
            read += 1
            host = sender[0]
            allowed = verdicts.get(host)
            if allowed is None:
                if len(verdicts) >= SENDERS:
                    verdicts.clear()
                allowed = verdicts[host] = allow.permits(host)
            if allowed:
                packets.append(data)
            else:
                refused[host] += 1
        try:
            conn.send((read, coalesce(packets), dict(refused)))
        except OSError:
            return
        # Let the next datagrams queue in the kernel instead of waking for each.
        if conn.poll(BATCH_SECONDS):
            return


def start_reader(sock: socket.socket, allow: AllowList, size: int) -> tuple[subprocess.Popen, Connection]:
    """The reader process for the bound ``sock``, and the end of the pipe its batches arrive on."""
    ours, theirs = socket.socketpair()
    try:
        fds = (sock.fileno(), theirs.fileno())
        command = [sys.executable, "-m", __name__, *map(str, (*fds, size))]
        path = os.pathsep.join(p for p in sys.path if p)  # finds backrooms however this process did
        env = {**os.environ, "PYTHONPATH": path}
        process = subprocess.Popen(command, stdin=subprocess.PIPE, pass_fds=fds, env=env)
        with process.stdin:
            process.stdin.write(pickle.dumps(allow))
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    return process, Connection(ours.detach())


if __name__ == "__main__":
    sock_fd, conn_fd, max_size = map(int, sys.argv[1:4])
    read_batches(socket.socket(fileno=sock_fd), Connection(conn_fd), pickle.load(sys.stdin.buffer), max_size)
