"""A flood over real UDP is read in batches by a reader process: the last value of each knob wins,
earlier number messages to the same address are not even parsed, every datagram is counted, and the
live process (whose interpreter the frame loop needs) spends little CPU on it."""

import struct
import subprocess
import sys
import time

import numpy as np

from backrooms.control.session import LiveOptions, LiveSession
from backrooms.params import Registry

BURST = 10_000  # pairs of messages, sent at about 10,000 a second
MAX_CPU_PER_DATAGRAM = 8e-6  # seconds of the live process's CPU, beyond what it spends without traffic


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
        began, cpu = time.monotonic(), time.process_time()
        subprocess.run([sys.executable, "-c", SENDER, str(live.osc.udp_port), str(BURST)], check=True)
        deadline = time.monotonic() + 20
        while live.inbox.target("decay.preset") != "ep" and time.monotonic() < deadline:
            time.sleep(0.01)
        received = live.osc.udp.received
        cpu = time.process_time() - cpu  # this process: the OSC threads and the loop (the test waits)
        quiet = time.process_time()  # as long again without traffic: what the session costs anyway
        time.sleep(time.monotonic() - began)
        cpu -= time.process_time() - quiet
        assert live.inbox.target("decay.preset") == "ep"
        assert live.inbox.target("decay.noise") == struct.unpack(">f", struct.pack(">f", 0.75))[0]
        assert live.inbox.target("decay.hue") == float((BURST - 1) % 90)
    assert received >= 0.5 * (2 * BURST + 2)  # UDP: a busy machine's kernel may drop some
    assert len(submits) < received / 10, f"{len(submits)} inbox submits for {received} datagrams"
    assert live.tally.total() == 0
    # Read here, a datagram cost 11-14 us of this process's CPU (and its interpreter lock); read by
    # the reader process, about 2.4 us with the session's own CPU over the flood, which a slow phase
    # of the machine raised to 3-7 us (once 6.9 against the 6 us this allowed then); the session's
    # own share is now measured over as long again and taken off (2.4-4.2 us left in that phase;
    # the threaded reader of 167c67d 10.8-14.9 us, so this still fails on it).
    assert cpu / received < MAX_CPU_PER_DATAGRAM, f"{cpu / received * 1e6:.1f} us per datagram"
