"""Who may talk to the live servers: loopback by default, remote senders only when asked for."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from backrooms.errors import UserError


class AllowList:
    """Loopback always; with ``--allow-remote`` everyone, or only the ``--allow`` networks if given."""

    def __init__(self, bind: str, allow_remote: bool = False, allow: Iterable[str] = ()) -> None:
        try:
            address = ipaddress.ip_address(bind)
        except ValueError:
            raise UserError(f"--bind {bind!r}: expected an IP address such as 127.0.0.1 or 0.0.0.0") from None
        if not address.is_loopback and not allow_remote:
            raise UserError(f"--bind {bind}: binding beyond loopback exposes every knob; add --allow-remote")
        self.bind = bind
        self.remote = not address.is_loopback
        self.networks = []
        for text in allow:
            try:
                self.networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                problem = "expected an IP address or network such as 192.168.1.0/24"
                raise UserError(f"--allow {text!r}: {problem}") from None
        if self.networks and not self.remote:
            raise UserError("--allow only makes sense with --bind beyond loopback and --allow-remote")

    def permits(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if getattr(address, "ipv4_mapped", None):
            address = address.ipv4_mapped
        if address.is_loopback:
            return True
        if not self.remote:
            return False
        return not self.networks or any(address in net for net in self.networks)
