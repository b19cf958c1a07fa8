"""Server-side request forgery guard: no connection to loopback, private or otherwise non-public addresses.

A feed is untrusted input, and so is every link in it: without this guard an entry linking to
`http://169.254.169.254/` (cloud metadata) or `http://127.0.0.1:6379/` would make the crawler fetch it.

The check runs on the address actually connected to: `GuardedBackend` replaces the network backend of the
direct httpx transport, resolves the host itself and hands the original backend an allowed IP address.
Checking the name before the request and letting the transport resolve it again would leave a window in
which the DNS answer changes (DNS rebinding). TLS still verifies the certificate against the host name,
because httpcore takes `server_hostname` from the request origin, not from the address we connect to.

Behind a proxy the proxy resolves names, so no connection-time check is possible: `AddressPolicy.check_host`
then resolves the target locally before the request and refuses it when any answer is non-public; a name
that does not resolve locally is left to the proxy (it may serve names we cannot see).
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

import httpcore
import httpx

from ..errors import BlockedAddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""(host, port) → IP address strings, in the resolver's order of preference."""

_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
_NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, compatible, 6to4, NAT64): the packet reaches it."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64_PREFIX:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    # IPv4-compatible (::a.b.c.d, deprecated) but not :: or ::1, which are IPv6's own.
    if int(ip) >> 32 == 0 and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip))
    return None


def non_public_kind(ip: IPAddress) -> str | None:
    """Why `ip` is refused ("a loopback address"...), or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            kind = non_public_kind(embedded)
            return f"{kind} in IPv6 form" if kind else None
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if ip in _SHARED_ADDRESS_SPACE:
        return "a shared (carrier-grade NAT) address"
    if not ip.is_global:
        return "a non-public address"
    return None


def _refusal(host: str, address: str, kind: str) -> BlockedAddress:
    return BlockedAddress(
        host,
        f"{host} resolves to {address}, {kind}; set network.allow_private: true or list the host in "
        "network.allowed_hosts if this is your own server",
    )


async def resolve(host: str, port: int) -> list[str]:
    """The system resolver's answers, without duplicates."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class AddressPolicy:
    """Which hosts and addresses may be connected to."""

    def __init__(self, allowed_hosts: Iterable[str] = (), resolver: Resolver = resolve):
        self._allowed_hosts = frozenset(_normal_host(h) for h in allowed_hosts)
        self._resolve = resolver

    def trusts(self, host: str) -> bool:
        return _normal_host(host) in self._allowed_hosts

    async def public_addresses(self, host: str, port: int) -> list[str]:
        """The host's public addresses; BlockedAddress when it has none (non-public ones are dropped: a host
        answering with both kinds is still reached, but only on the public ones)."""
        try:
            addresses = await self._resolve(host, port)
        except (socket.gaierror, UnicodeError) as e:
            raise httpcore.ConnectError(f"cannot resolve {host}: {e}") from None
        allowed: list[str] = []
        refused: tuple[str, str] | None = None
        for address in addresses:
            kind = non_public_kind(ipaddress.ip_address(address))
            if kind is None:
                allowed.append(address)
            elif refused is None:
                refused = (address, kind)
        if not allowed:
            if refused is None:
                raise httpcore.ConnectError(f"cannot resolve {host}: no address")
            raise _refusal(host, *refused)
        return allowed

    async def check_host(self, host: str, port: int) -> None:
        """Refuse a proxied request whose target resolves, here, to any non-public address."""
        if self.trusts(host):
            return
        try:
            addresses = await self._resolve(host, port)
        except (socket.gaierror, UnicodeError):
            return  # the proxy may know names we do not; it is trusted to resolve them
        for address in addresses:
            kind = non_public_kind(ipaddress.ip_address(address))
            if kind:
                raise _refusal(host, address, kind)


def _normal_host(host: str) -> str:
    return host.strip().rstrip(".").lower().removeprefix("[").removesuffix("]")


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that connects only to addresses the policy allows."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend, policy: AddressPolicy):
        self._inner = inner
        self._policy = policy

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self._policy.trusts(host):
            return await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._policy.public_addresses(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"cannot resolve {host} within {timeout:g} s") from None
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                last_error = e
        assert last_error is not None
        raise last_error

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def install_guard(transport: httpx.AsyncHTTPTransport, policy: AddressPolicy) -> None:
    """Route every connection `transport` opens through `GuardedBackend`.

    httpx offers no public way to choose the network backend; its transport keeps the httpcore pool as
    `_pool`, and the pool reads `_network_backend` each time it opens a connection. Checked here so that an
    httpx upgrade that moves them fails loudly instead of silently dropping the guard.
    """
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.AsyncConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError("this httpx/httpcore version hides its network backend: cannot install the address guard")
    pool._network_backend = GuardedBackend(pool._network_backend, policy)
