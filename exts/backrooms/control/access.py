"""Who may talk to the live servers: loopback by default, remote senders only when asked for.

HTTP and WebSocket requests are also checked by the name they were sent to (the ``Host`` header):
a web page on any site whose DNS name is made to resolve to 127.0.0.1 (DNS rebinding) reaches a
loopback server as "same origin", so only the bound address, localhost forms and names the user
allows (``--allow-host``) are served.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

from backrooms.errors import UserError


@contextlib.contextmanager
def listening(flag: str, bind: str, port: int | None) -> Iterator[None]:
    """A server that cannot listen is named by the option that chose its port (another ``live``
    holding it is the usual reason), in one line."""
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            reason = "the port is in use (another backrooms live?); pick another, or 0 for any free one"
        else:
            reason = exc.strerror or str(exc)
        raise UserError(f"{flag} {port}: cannot listen on {bind}:{port}: {reason}") from None


class AllowList:
    """Loopback always; with ``--allow-remote`` everyone, or only the ``--allow`` networks if given."""

    def __init__(
        self, bind: str, allow_remote: bool = False, allow: Iterable[str] = (), hosts: Iterable[str] = ()
    ) -> None:
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
        self.hosts = {name.strip().lower().rstrip(".") for name in hosts}
        for name in self.hosts:
            if not name or not _host_name(name) == name:
                raise UserError(f"--allow-host {name!r}: expected a host name such as studio.local")

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

    def permits_host(self, header: str | None) -> bool:
        """Whether an HTTP ``Host`` header names this server rather than a name that merely resolves here.

        Accepted: ``localhost`` and ``*.localhost``, loopback addresses, the bound address (any IP
        address when bound to every interface: a literal address cannot be rebound), and the names
        given with ``--allow-host``. The port is not compared.
        """
        host = _host_name(header or "")
        if not host:
            return False
        if host == "localhost" or host.endswith(".localhost") or host in self.hosts:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        bound = ipaddress.ip_address(self.bind)
        return address.is_loopback or address == bound or (bound.is_unspecified and self.remote)


def _host_name(header: str) -> str | None:
    """The lower-case host of a ``Host`` header (``name:port``, ``[v6]:port``), without port or final dot."""
    try:
        host = urlsplit("//" + header.strip()).hostname
    except ValueError:
        return None
    return host.rstrip(".") if host else None
