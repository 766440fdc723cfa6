"""Requests to member-configured URLs, and nothing else: no internal address is ever reached.

Members give Guild URLs (webhooks, Slack, Teams); an attacker would give one that points
inside the company network or at a cloud metadata service. So every connection is checked
**when it is made**, against the address it is made to:

1. A URL must be ``https`` (plain ``http`` only to loopback, and only when the operator's
   ``allow_loopback`` setting, meant for tests and the local demo, is on), have no user
   info, and a host that is a name or a canonical IP address: ``2130706433``, ``0x7f.1`` or
   ``0177.0.0.1`` are refused, though a resolver would read them as 127.0.0.1.
2. The name is resolved once, at connect time; if **any** address it resolves to is not a
   public one (loopback, private, link-local, shared, reserved, multicast, documentation,
   IPv4 inside IPv6, cloud metadata), the connection is refused. Otherwise it is made to the
   address just checked, so a name that resolves differently a moment later (DNS rebinding)
   gets nowhere; TLS still checks the certificate against the name.
3. Redirects are never followed (a 3xx is a failed delivery), proxies from the environment
   are ignored (the check would otherwise see only the proxy), and responses are read only
   up to a small limit.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

PORTS = (443, 8443)
"""Ports a member-configured URL may use (any port on loopback when loopback is allowed)."""
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata", "instance-data"})
NOT_PUBLIC = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
        "64:ff9b::/96", "64:ff9b:1::/48", "2001::/32", "2001:db8::/32", "2002::/16",
        "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8", "::/128", "::ffff:0:0/96",
        "::/96", "100::/64", "5f00::/16",
    )
]  # fmt: skip
"""Not globally reachable (IANA special-purpose registries), checked on top of ``is_global``,
which has been wrong for some of them in past Python releases."""
METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)


class Refused(Exception):
    """A destination Guild will not connect to; ``reason`` says why, in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def refusal(address: IPAddress, *, allow_loopback: bool) -> str | None:
    """Why Guild will not connect to ``address``; None if it may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped, allow_loopback=allow_loopback) or (
            "an IPv4 address written as IPv6"
        )
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "not a unicast address"
    if address.is_private:
        return "a private address"
    if not address.is_global or any(address in network for network in NOT_PUBLIC):
        return "not a public address"
    return None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _numeric_but_not_canonical(host: str) -> bool:
    """Hosts a resolver reads as an IPv4 address though they are not written as one."""
    if _literal(host) is not None:
        return False
    try:
        socket.inet_aton(host)
    except (OSError, ValueError):
        return all(part.isdigit() or part.lower().startswith("0x") for part in host.split("."))
    return True


def check_url(url: str, *, allow_loopback: bool = False) -> httpx.URL:
    """The URL parsed, if it may be saved and used; else :class:`Refused` with the reason.
    Names are checked again, with their addresses, at every connection."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as error:
        raise Refused(f"not a valid URL ({error})") from None
    host = parsed.host.lower()
    if parsed.scheme not in ("https", "http"):
        raise Refused("only https URLs are allowed")
    if parsed.userinfo:
        raise Refused("URLs with a user name or password are not allowed")
    if not host:
        raise Refused("the URL has no host")
    if _numeric_but_not_canonical(host):
        raise Refused("the host is an IP address in a non-standard form")
    if host in METADATA_NAMES or host.endswith(".internal"):
        raise Refused("the host is a cloud metadata service")
    literal = _literal(host)
    if literal is not None and (why := refusal(literal, allow_loopback=allow_loopback)):
        raise Refused(f"the host is {why}")
    loopback_ok = allow_loopback and (
        literal.is_loopback if literal is not None else host == "localhost"
    )
    if parsed.scheme == "http" and not loopback_ok:
        raise Refused("only https URLs are allowed")
    if parsed.port not in (None, *PORTS) and not loopback_ok:
        raise Refused(f"only ports {', '.join(map(str, PORTS))} are allowed")
    return parsed


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def public_addresses(
    host: str, port: int, *, resolver: Resolver, allow_loopback: bool
) -> list[IPAddress]:
    """Every address ``host`` resolves to, if Guild may connect to all of them; else
    :class:`Refused`. A name that does not resolve raises ``OSError``."""
    literal = _literal(host)
    found = [str(literal)] if literal is not None else await resolver(host, port)
    addresses = [ipaddress.ip_address(a.split("%")[0]) for a in found]
    if not addresses:
        raise OSError(f"{host} resolves to no address")
    for address in addresses:
        if why := refusal(address, allow_loopback=allow_loopback):
            raise Refused(f"{host} resolves to {why}")
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address, and connects to the one it checked."""

    def __init__(self, *, allow_loopback: bool, resolver: Resolver) -> None:
        self.allow_loopback = allow_loopback
        self.resolver = resolver
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = await self.checked_address(host, port)
        return await self.inner.connect_tcp(
            str(address), port, timeout, local_address, socket_options
        )

    async def checked_address(self, host: str, port: int) -> IPAddress:
        try:
            addresses = await public_addresses(
                host, port, resolver=self.resolver, allow_loopback=self.allow_loopback
            )
        except OSError as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from None
        if port not in PORTS and not all(a.is_loopback for a in addresses):
            raise Refused(f"only ports {', '.join(map(str, PORTS))} are allowed")
        return addresses[0]

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise Refused("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


@dataclass
class Egress:
    """The one HTTP client for member-configured URLs, and the check of their URLs."""

    allow_loopback: bool = False
    resolver: Resolver = system_resolver
    timeout: httpx.Timeout = field(default_factory=lambda: httpx.Timeout(15.0, connect=5.0))
    _client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            transport = httpx.AsyncHTTPTransport(trust_env=False)
            # httpx takes no network backend; its connection pool (httpcore) does.
            transport._pool = httpcore.AsyncConnectionPool(
                ssl_context=ssl.create_default_context(),
                max_connections=100,
                network_backend=GuardedBackend(
                    allow_loopback=self.allow_loopback, resolver=self.resolver
                ),
            )
            self._client = httpx.AsyncClient(
                transport=transport, follow_redirects=False, trust_env=False, timeout=self.timeout
            )
        return self._client

    def check(self, url: str) -> httpx.URL:
        return check_url(url, allow_loopback=self.allow_loopback)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
