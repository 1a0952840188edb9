"""DNS-SD (Bonjour / zeroconf) announcements, so controllers find the session without typing ports.

The OSCQuery server is announced as ``_oscjson._tcp`` (as the OSCQuery proposal asks) and the OSC
port as ``_osc._udp``. Announcing runs on a background thread (probing takes about a second) and
only on the bound interface. A loopback-only session is not announced: zeroconf's responder always
listens on UDP 5353 of every interface, which would put a listener beyond loopback. Without the
optional ``zeroconf`` package nothing is announced and the session says so once.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from typing import Any

LOG = logging.getLogger("backrooms.control")
OSCQUERY_SERVICE = "_oscjson._tcp.local."
OSC_SERVICE = "_osc._udp.local."


class Announcer:
    def __init__(self, bind: str, name: str, oscquery_port: int | None, osc_port: int) -> None:
        self._zeroconf: Any = None
        if ipaddress.ip_address(bind).is_loopback:
            LOG.info("control: a loopback session is not announced over zeroconf (it would listen beyond it)")
            return
        try:
            from zeroconf import InterfaceChoice, IPVersion, ServiceInfo, Zeroconf
        except ImportError:
            LOG.warning("control: zeroconf is not installed; the session is not announced on the network")
            return
        wildcard = ipaddress.ip_address(bind).is_unspecified
        try:
            address = socket.gethostbyname(socket.gethostname()) if wildcard else bind
            self._zeroconf = Zeroconf(
                interfaces=InterfaceChoice.All if wildcard else [bind], ip_version=IPVersion.V4Only
            )
        except OSError as exc:  # no usable address or multicast: a convenience lost, not a failure
            LOG.warning("control: cannot announce the session (%s)", exc)
            return
        server = f"{socket.gethostname().split('.')[0]}.local."
        services = [(OSC_SERVICE, osc_port)]
        if oscquery_port is not None:
            services.append((OSCQUERY_SERVICE, oscquery_port))
        packed = [socket.inet_aton(address)]
        self.infos = [
            ServiceInfo(kind, f"{name}.{kind}", port=port, addresses=packed, server=server)
            for kind, port in services
        ]
        self._thread = threading.Thread(target=self._register, name="zeroconf-announce", daemon=True)
        self._thread.start()

    def _register(self) -> None:
        for info in self.infos:
            try:
                self._zeroconf.register_service(info, allow_name_change=True)
            except Exception as exc:  # announcing is a convenience: never fail the session for it
                LOG.warning("control: could not announce %s (%s)", info.name, exc)

    def close(self) -> None:
        if self._zeroconf is not None:
            self._thread.join(10)
            self._zeroconf.unregister_all_services()
            self._zeroconf.close()
