"""A flood over real UDP is read in batches by a reader process: the last value of each knob wins,
earlier number messages to the same address are not even parsed, every datagram is counted, and the
live process (whose interpreter the frame loop needs) spends little CPU on it."""

import struct
import subprocess
import sys
import threading
import time

import numpy as np

from backrooms.control.session import LiveOptions, LiveSession
from backrooms.params import Registry

BURST = 10_000  # pairs of messages, sent at about 10,000 a second
MAX_CPU_PER_BATCH = 1e-3  # seconds of the live process's OSC thread


def registry() -> Registry:
    reg = Registry()
    reg.declare("decay", "noise", 0.0, "noise", min=0.0, max=1.0)
    reg.declare("decay", "hue", 0.0, "hue", min=-180.0, max=180.0)
    reg.declare("decay", "preset", "sp", "tape", choices=("sp", "lp", "ep"))
    return reg


SENDER = """
import socket, struct, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
def msg(address, tag, payload):
    pad = lambda raw: raw + b"\\0" * (4 - len(raw) % 4)
    return pad(address.encode()) + pad(("," + tag).encode()) + payload
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
to = ("127.0.0.1", port)
for i in range(count):
    sock.sendto(msg("/backrooms/decay/noise", "f", struct.pack(">f", (i % 100) / 100)), to)
    sock.sendto(msg("/backrooms/decay/hue/native", "f", struct.pack(">f", float(i % 90))), to)
    if i % 10 == 0:
        time.sleep(0.002)
time.sleep(0.2)  # the burst is read; the last two are not dropped with it
sock.sendto(msg("/backrooms/decay/noise", "f", struct.pack(">f", 0.75)), to)
sock.sendto(msg("/backrooms/decay/preset", "s", b"ep\\0\\0"), to)
"""


def test_a_flood_from_another_process_is_read_in_batches_and_the_last_value_wins():
    options = LiveOptions(osc_port=0, osc_tcp_port=None, oscquery_port=None, preview_port=None)
    with LiveSession(registry(), {}, 30, lambda f, s: np.zeros((4, 4, 4), np.uint8), options) as live:
        submits = []
        submit = live.inbox.submit

        def counting(changes, when=None):
            submits.append(len(changes))
            return submit(changes, when)

        live.inbox.submit = counting
        batches = []
        handle = live.osc.udp._handle

        def handling(batch):
            batches.append(batch[0])  # datagrams the reader process read into it
            handle(batch)

        live.osc.udp._handle = handling
        udp = next(t for t in threading.enumerate() if t.name == "osc-_UdpServer")
        clock = time.pthread_getcpuclockid(udp.ident)  # the thread that takes UDP's batches here
        cpu = time.clock_gettime(clock)
        subprocess.run([sys.executable, "-c", SENDER, str(live.osc.udp_port), str(BURST)], check=True)
        deadline = time.monotonic() + 20
        while live.inbox.target("decay.preset") != "ep" and time.monotonic() < deadline:
            time.sleep(0.01)
        received = live.osc.udp.received
        cpu = time.clock_gettime(clock) - cpu
        assert live.inbox.target("decay.preset") == "ep"
        assert live.inbox.target("decay.noise") == struct.unpack(">f", struct.pack(">f", 0.75))[0]
        assert live.inbox.target("decay.hue") == float((BURST - 1) % 90)
    assert received >= 0.5 * (2 * BURST + 2)  # UDP: a busy machine's kernel may drop some
    assert len(submits) < received / 10, f"{len(submits)} inbox submits for {received} datagrams"
    assert live.tally.total() == 0
    # The live process (whose interpreter the frame loop needs) wakes once per batch of the reader
    # process's, not per datagram: about 100 datagrams a batch here, each batch 0.13-0.23 ms of its
    # OSC thread's CPU. (A limit per datagram on the whole process's CPU, 6 us and then 8, failed
    # in CI on a slow phase of the Xeon sandbox: most of that figure grows with the flood's
    # seconds, not its datagrams. The threaded reader of 167c67d read every datagram on that thread,
    # 8.8-9.7 us each, and has no batches: this fails on it.)
    assert sum(batches) == received and len(batches) < received / 20, f"{len(batches)} batches"
    assert cpu / len(batches) < MAX_CPU_PER_BATCH, f"{cpu / len(batches) * 1e3:.2f} ms per batch"
