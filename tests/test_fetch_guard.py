"""The address guard: which addresses are refused, and that the Fetcher never connects to them."""
from __future__ import annotations

import ipaddress
import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import httpcore
import pytest

from crawler.errors import BlockedAddress, TransportError
from crawler.fetch import Fetcher, guard
from crawler.fetch.guard import AddressPolicy, GuardedBackend, non_public_kind
from tests.support.network import fast_network_settings
from tests.support.server import LocalServer, Reply


@pytest.mark.parametrize(
    "address, kind",
    [
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "a link-local address"),  # cloud metadata
        ("100.100.100.200", "a shared (carrier-grade NAT) address"),  # Alibaba Cloud metadata
        ("224.0.0.1", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),
        ("240.0.0.1", "a reserved address"),
        ("255.255.255.255", "a reserved address"),
        ("::1", "a loopback address"),
        ("::", "an unspecified address"),
        ("fe80::1", "a link-local address"),
        ("fc00::1", "a private address"),
        ("ff02::1", "a multicast address"),
        ("::ffff:127.0.0.1", "a loopback address in IPv6 form"),
        ("::ffff:10.0.0.1", "a private address in IPv6 form"),
        ("::127.0.0.1", "a loopback address in IPv6 form"),  # IPv4-compatible
        ("2002:7f00:1::", "a loopback address in IPv6 form"),  # 6to4
        ("64:ff9b::a9fe:a9fe", "a link-local address in IPv6 form"),  # NAT64 of 169.254.169.254
        ("2001:db8::1", "a private address"),  # documentation
    ],
)
def test_non_public_addresses_are_named(address: str, kind: str):
    assert non_public_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8",
                                     "64:ff9b::808:808"])
def test_public_addresses_pass(address: str):
    assert non_public_kind(ipaddress.ip_address(address)) is None


# --- the backend, with a fake resolver and a fake inner backend ------------------------------------------


class RecordingBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self.connected: list[str] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.connected.append(host)
        return httpcore.AsyncNetworkStream()


def resolving_to(*addresses: str):
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


async def test_only_public_answers_are_connected_to():
    inner = RecordingBackend()
    backend = GuardedBackend(inner, AddressPolicy(resolver=resolving_to("10.0.0.1", "127.0.0.1", "93.184.215.14")))
    await backend.connect_tcp("feeds.example.com", 443)
    assert inner.connected == ["93.184.215.14"]


async def test_a_host_with_only_private_answers_is_refused_before_connecting():
    inner = RecordingBackend()
    backend = GuardedBackend(inner, AddressPolicy(resolver=resolving_to("169.254.169.254", "10.0.0.1")))
    with pytest.raises(BlockedAddress, match=r"feeds\.example\.com resolves to 169\.254\.169\.254, a link-local"):
        await backend.connect_tcp("feeds.example.com", 80)
    assert inner.connected == []


async def test_an_allowed_host_is_connected_to_by_name():
    inner = RecordingBackend()
    backend = GuardedBackend(inner, AddressPolicy(["RSSHub.local."], resolver=resolving_to("10.0.0.5")))
    await backend.connect_tcp("rsshub.local", 1200)
    assert inner.connected == ["rsshub.local"]


async def test_a_name_that_does_not_resolve_is_a_connection_error():
    async def failing(host: str, port: int) -> list[str]:
        raise socket.gaierror(-2, "Name or service not known")

    with pytest.raises(httpcore.ConnectError, match="cannot resolve nowhere.example"):
        await GuardedBackend(RecordingBackend(), AddressPolicy(resolver=failing)).connect_tcp("nowhere.example", 80)


async def test_the_proxy_check_refuses_private_targets_and_leaves_unknown_names_to_the_proxy():
    async def unknown(host: str, port: int) -> list[str]:
        raise socket.gaierror(-2, "Name or service not known")

    await AddressPolicy(resolver=unknown).check_host("intranet-only.example", 80)
    await AddressPolicy(resolver=resolving_to("93.184.215.14")).check_host("example.com", 80)
    with pytest.raises(BlockedAddress, match="10.0.0.1, a private address"):
        # One private answer is enough: the proxy might pick it.
        await AddressPolicy(resolver=resolving_to("93.184.215.14", "10.0.0.1")).check_host("example.com", 80)


# --- through the Fetcher -----------------------------------------------------------------------------------


async def test_loopback_is_refused_with_an_actionable_message(http_server: LocalServer):
    http_server.route("/feed", Reply(body=b"<rss/>"))
    async with Fetcher(fast_network_settings(allow_private=False)) as fetcher:
        with pytest.raises(BlockedAddress) as raised:
            await fetcher.fetch_feed(http_server.url("/feed"))
    assert str(raised.value) == (
        f"{http_server.url('/feed')}: 127.0.0.1 resolves to 127.0.0.1, a loopback address; set "
        "network.allow_private: true or list the host in network.allowed_hosts if this is your own server"
    )
    assert raised.value.permanent and http_server.requests == []


async def test_names_are_checked_after_resolution(http_server: LocalServer):
    async with Fetcher(fast_network_settings(allow_private=False)) as fetcher:
        with pytest.raises(BlockedAddress, match=r"localhost resolves to (127\.0\.0\.1|::1), a loopback address"):
            await fetcher.fetch_page(http_server.url("/page", host="localhost"))
    assert http_server.requests == []  # not even robots.txt


@pytest.mark.parametrize("url", ["http://[::1]:9/", "http://[::ffff:127.0.0.1]:9/", "http://0.0.0.0:9/",
                                 "http://169.254.169.254/latest/meta-data/", "http://2130706433:9/"])
async def test_address_literals_are_refused(url: str):
    async with Fetcher(fast_network_settings(allow_private=False, attempts=1)) as fetcher:
        with pytest.raises(BlockedAddress):
            await fetcher.fetch_feed(url)


async def test_allowed_hosts_may_be_private(http_server: LocalServer):
    http_server.route("/feed", Reply(body=b"<rss/>"))
    async with Fetcher(fast_network_settings(allow_private=False, allowed_hosts=("LocalHost",))) as fetcher:
        assert (await fetcher.fetch_feed(http_server.url("/feed", host="localhost"))).body == b"<rss/>"


async def test_every_redirect_hop_is_checked(http_server: LocalServer):
    http_server.route("/feed", Reply(302, headers={"Location": http_server.url("/secret")}))
    http_server.route("/secret", Reply(body=b"internal"))
    async with Fetcher(fast_network_settings(allow_private=False, allowed_hosts=("localhost",))) as fetcher:
        with pytest.raises(BlockedAddress, match="127.0.0.1, a loopback address"):
            await fetcher.fetch_feed(http_server.url("/feed", host="localhost"))
    assert http_server.hits("/secret") == 0


async def test_allow_private_lifts_the_guard(http_server: LocalServer):
    http_server.route("/feed", Reply(body=b"<rss/>"))
    async with Fetcher(fast_network_settings(allow_private=True)) as fetcher:
        assert (await fetcher.fetch_feed(http_server.url("/feed"))).body == b"<rss/>"


@pytest.fixture
def feeds_test_certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate and key for the name feeds.test."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=feeds.test",
         "-addext", "subjectAltName=DNS:feeds.test"],
        check=True, capture_output=True,
    )
    return cert, key


async def test_tls_checks_the_host_name_while_connecting_to_the_checked_address(
    feeds_test_certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
):
    cert, key = feeds_test_certificate
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    system_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        return system_getaddrinfo("127.0.0.1" if host == "feeds.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(guard, "non_public_kind", lambda ip: None)  # let the guard pass 127.0.0.1 as public
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with LocalServer(tls=tls) as server:
        server.route("/feed", Reply(body=b"<rss/>"))
        async with Fetcher(fast_network_settings(allow_private=False, attempts=1)) as fetcher:
            # The guard connected to the address it resolved; TLS verified the certificate for feeds.test.
            assert (await fetcher.fetch_feed(server.url("/feed", host="feeds.test"))).body == b"<rss/>"
            with pytest.raises(TransportError, match="certificate"):
                await fetcher.fetch_feed(server.url("/feed", host="127.0.0.1"))  # not a name in the certificate
