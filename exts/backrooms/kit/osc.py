"""OSC for the Kit host, Kit-free: the control package's receiver and servers, stepped by Kit.

The same pieces as ``backrooms live`` (receiver, inbox with timetag scheduling, smoothing, the
loopback allow-list); Kit's update loop plays the role of the live frame loop, so a change that
arrives during one Kit update is in the store at the start of the next.
"""

from __future__ import annotations

from backrooms.control.access import AllowList
from backrooms.control.addresses import AddressTable
from backrooms.control.clock import FrameClock
from backrooms.control.inbox import Inbox
from backrooms.control.live import LiveLoop
from backrooms.control.osc import OscReceiver, OscServers
from backrooms.control.tally import Tally
from backrooms.kit.settings import PREFIX
from backrooms.params.smoothing import Smoother
from backrooms.params.store import ParamStore

SMOOTHING_SECONDS = 0.08  # continuous knobs glide over a few frames, as in `backrooms live`


class KitOsc:
    """UDP OSC on ``host:port`` (loopback unless the host says otherwise); ``close`` frees the port."""

    def __init__(self, store: ParamStore, host: str, port: int, fps: float) -> None:
        values = store.snapshot()
        self.tally = Tally()
        inbox = Inbox(values, FrameClock(fps), self.tally)
        smoother = Smoother(store.registry, values, fps, SMOOTHING_SECONDS)
        self.loop = LiveLoop(store, inbox, smoother, render=lambda _frame, _snapshot: None)
        receiver = OscReceiver(AddressTable(store.registry), inbox, self.tally)
        names = (f"setting {PREFIX}/osc_port", "")  # no TCP server in Kit
        self.servers = OscServers(receiver, AllowList(host), udp_port=port, tcp_port=None, names=names)

    @property
    def port(self) -> int:
        return self.servers.udp_port

    def step(self) -> None:
        """Apply what is due to the store (one call per Kit update)."""
        self.loop.step()

    def close(self) -> None:
        self.servers.close()
