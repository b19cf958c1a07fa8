"""No request reaches a non-public address, whatever spelling, DNS answer or redirect leads there: through the
real Fetcher and a real `crawler once`, against real servers.

The test world, all on this machine:
- `public` is a LocalServer on 127.0.0.1, which these tests let the address guard take for a public address
  (only that one address: `guard.non_public_kind` is wrapped);
- `intranet` is a LocalServer on 127.0.0.2, a loopback address the guard refuses as it would any private
  one: if the guard let a request through, this server would record it;
- names resolve through a fixed table (`socket.getaddrinfo` is replaced: no DNS query leaves the machine),
  and a fence under the guard refuses and records any connection to an address outside 127.0.0.0/8 or ::1,
  so even a broken guard could not send a packet to 10.x or 169.254.169.254.
"""
from __future__ import annotations

import ipaddress
import itertools
import logging
import socket

import httpcore
import pytest
from httpcore._backends.auto import AutoBackend

from crawler.cli import main
from crawler.errors import BlockedAddress, FetchError
from crawler.fetch import Fetcher, guard
from tests.support.crawler_process import run_crawler
from tests.support.network import fast_network_settings
from tests.support.server import LocalServer, Reply
from tests.support.site import FeedConfig, Item, article_page, paragraphs, rss, write_config

PUBLIC_IP = ipaddress.ip_address("127.0.0.1")
WORLD_CHECK = "world-check"  # the user agent of the one request meant to reach the intranet
_real_getaddrinfo = socket.getaddrinfo
_real_non_public_kind = guard.non_public_kind


class World:
    def __init__(self, public: LocalServer, intranet: LocalServer):
        self.public, self.intranet = public, intranet
        self.lookups: list[str] = []
        self.fenced: list[str] = []
        rebinding = itertools.cycle(["127.0.0.1", "127.0.0.2"])  # public on odd lookups, private on even ones
        self.names = {
            "news.example": lambda: ["127.0.0.1"],
            "intranet.example": lambda: ["127.0.0.2"],
            "metadata.example": lambda: ["169.254.169.254"],
            "ten.example": lambda: ["10.1.2.3"],
            "cgnat.example": lambda: ["100.64.0.7"],
            "ula.example": lambda: ["fd00::1"],
            "linklocal6.example": lambda: ["fe80::1"],
            "mapped.example": lambda: ["::ffff:127.0.0.2"],
            "nat64.example": lambda: ["64:ff9b::a9fe:a9fe"],
            "unspecified.example": lambda: ["0.0.0.0"],
            "mixed.example": lambda: ["127.0.0.2", "10.0.0.1", "127.0.0.1"],
            "rebind.example": lambda: [next(rebinding)],
        }

    def getaddrinfo(self, host, port, *args, **kwargs):
        self.lookups.append(host.decode() if isinstance(host, bytes) else host)
        return self.answers(host, port, *args, **kwargs)

    def answers(self, host, port, *args, **kwargs):
        name = (host.decode() if isinstance(host, bytes) else host).lower().rstrip(".")
        if name in self.names:
            return [info for address in self.names[name]()
                    for info in _real_getaddrinfo(address, port, *args, **kwargs)]
        if _is_address_literal(name):  # numeric forms (2130706434, 0x7f000002, ::ffff:...) need no DNS
            return _real_getaddrinfo(name, port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (test world)")


def _is_address_literal(name: str) -> bool:
    try:
        socket.inet_aton(name)
        return True
    except OSError:
        pass
    try:
        socket.inet_pton(socket.AF_INET6, name)
        return True
    except OSError:
        return False


@pytest.fixture
def world(monkeypatch):
    with LocalServer() as public, LocalServer(host="127.0.0.2") as intranet:
        world = World(public, intranet)
        monkeypatch.setattr(socket, "getaddrinfo", world.getaddrinfo)
        monkeypatch.setattr(guard, "non_public_kind",
                            lambda ip: None if ip == PUBLIC_IP else _real_non_public_kind(ip))
        real_connect_tcp = AutoBackend.connect_tcp

        async def fenced_connect_tcp(backend, host, port, *args, **kwargs):
            addresses = {info[4][0] for info in world.answers(host, port, type=socket.SOCK_STREAM)}
            if not all(ipaddress.ip_address(a).is_loopback for a in addresses):
                world.fenced.append(f"{host}:{port}")
                raise httpcore.ConnectError(f"test fence: {host} is not on this machine")
            return await real_connect_tcp(backend, host, port, *args, **kwargs)

        monkeypatch.setattr(AutoBackend, "connect_tcp", fenced_connect_tcp)
        intranet.route("/secret", Reply(body=b"internal"))
        public.route("/feed", Reply(body=b"<rss/>"))
        yield world
        arrived = [r for r in intranet.requests if r.headers.get("user-agent") != WORLD_CHECK]
        assert arrived == [], "a request reached the intranet"
        assert world.fenced == [], "the guard let a connection to a non-loopback address through"


def guarded(**overrides):
    return Fetcher(fast_network_settings(allow_private=False, attempts=1, **overrides))


async def test_the_test_world_works(world):
    async with guarded() as fetcher:
        assert (await fetcher.fetch_feed(f"http://news.example:{world.public.port}/feed")).body == b"<rss/>"
    async with Fetcher(fast_network_settings(allow_private=True, user_agent=WORLD_CHECK)) as fetcher:
        fetched = await fetcher.fetch_feed(f"http://intranet.example:{world.intranet.port}/secret")
    assert fetched.body == b"internal"  # so a request the guard let through would be seen


@pytest.mark.parametrize("host", [
    "127.0.0.2", "127.2", "2130706434", "0x7f000002", "0x7f.0.0.2", "0177.0.0.2",
    "[::ffff:127.0.0.2]", "[::ffff:7f00:2]", "[0:0:0:0:0:ffff:127.0.0.2]", "[::127.0.0.2]", "[64:ff9b::7f00:2]",
    "[2002:7f00:2::]", "intranet.example", "INTRANET.example.", "mapped.example",
])
async def test_every_spelling_of_a_private_address_is_refused(world, host):
    async with guarded() as fetcher:
        with pytest.raises(FetchError) as refused:
            await fetcher.fetch_page(f"http://{host}:{world.intranet.port}/secret")
    assert isinstance(refused.value, BlockedAddress) or "not a valid URL" in refused.value.reason


@pytest.mark.parametrize("host", ["0.0.0.0", "0", "[::]", "unspecified.example"])
async def test_the_unspecified_address_which_reaches_this_machine_is_refused(world, host):
    async with guarded() as fetcher:
        with pytest.raises(BlockedAddress, match="unspecified address"):
            await fetcher.fetch_feed(f"http://{host}:{world.public.port}/feed")
    assert world.public.requests == []


@pytest.mark.parametrize("name, address, kind", [
    ("metadata.example", "169.254.169.254", "a link-local address"),
    ("ten.example", "10.1.2.3", "a private address"),
    ("cgnat.example", "100.64.0.7", "a shared (carrier-grade NAT) address"),
    ("ula.example", "fd00::1", "a private address"),
    ("linklocal6.example", "fe80::1", "a link-local address"),
    ("nat64.example", "64:ff9b::a9fe:a9fe", "a link-local address in IPv6 form"),
])
async def test_names_resolving_to_non_public_addresses_are_refused_before_connecting(world, name, address, kind):
    async with guarded() as fetcher:
        with pytest.raises(BlockedAddress) as refused:
            await fetcher.fetch_page(f"http://{name}/latest/meta-data/")
    assert f"{name} resolves to {address}, {kind}; set network.allow_private" in str(refused.value)


async def test_a_name_with_mixed_answers_is_reached_on_its_public_address_only(world):
    async with guarded() as fetcher:
        fetched = await fetcher.fetch_feed(f"http://mixed.example:{world.public.port}/feed")
    assert fetched.body == b"<rss/>" and world.public.requests[0].headers["host"].startswith("mixed.example")


async def test_the_address_checked_is_the_address_connected_to(world):
    """DNS rebinding: the name answers public, then private. The guard resolves once and hands the checked
    address to the connection; a second lookup by the transport would have reached the intranet."""
    async with guarded() as fetcher:
        assert (await fetcher.fetch_feed(f"http://rebind.example:{world.public.port}/feed")).body == b"<rss/>"
    assert world.lookups.count("rebind.example") == 1
    async with guarded() as fetcher:  # a new connection resolves again, and gets the private answer
        with pytest.raises(BlockedAddress, match="rebind.example resolves to 127.0.0.2"):
            await fetcher.fetch_feed(f"http://rebind.example:{world.intranet.port}/secret")


@pytest.mark.parametrize("location", [
    "http://intranet.example:{intranet}/secret",
    "http://127.0.0.2:{intranet}/secret",
    "http://[::ffff:127.0.0.2]:{intranet}/secret",
    "http://2130706434:{intranet}/secret",
    "http://0.0.0.0:{public}/feed",
    "http://metadata.example/latest/meta-data/iam/security-credentials/",
    "http://ten.example/admin",
    "/hop2",  # via a second public hop, then to the intranet
])
async def test_every_redirect_hop_is_checked(world, location):
    ports = {"intranet": world.intranet.port, "public": world.public.port}
    world.public.route("/start", Reply(302, headers={"Location": location.format(**ports)}))
    world.public.route("/hop2", Reply(301, headers={"Location": f"http://intranet.example:{world.intranet.port}/"}))
    async with guarded() as fetcher:
        with pytest.raises(BlockedAddress):
            await fetcher.fetch_page(f"http://news.example:{world.public.port}/start")
    assert world.public.hits("/start") == 1 and world.public.hits("/feed") == 0


async def test_robots_txt_is_not_a_way_in(world):
    """A robots.txt redirected to the intranet is checked like any other hop: the redirect is refused, and
    with it the host's pages (the reason names the refused address)."""
    world.public.route("/robots.txt", Reply(302, headers={"Location": world.intranet.url("/secret")}))
    world.public.route("/page", Reply.text("<p>ok</p>"))
    async with guarded() as fetcher:
        with pytest.raises(BlockedAddress, match="127.0.0.2, a loopback address"):
            await fetcher.fetch_page(f"http://news.example:{world.public.port}/page")
    assert world.public.hits("/robots.txt") == 1 and world.public.hits("/page") == 0


def test_crawler_once_refuses_internal_links_in_a_public_feed(world, tmp_path, caplog):
    """The classic attack: a feed on a public site links to internal addresses. Each entry is given up at
    once with one line saying why; the public article beside them is archived."""
    public, port = world.public, world.public.port
    good = f"http://news.example:{port}/a/1.html"
    public.route("/a/1.html", Reply.text(article_page("公开的文章", paragraphs(1))))
    internal = [f"http://intranet.example:{world.intranet.port}/secret", f"http://127.0.0.2:{world.intranet.port}/",
                "http://metadata.example/latest/meta-data/", f"http://[::ffff:127.0.0.2]:{world.intranet.port}/",
                f"http://news.example:{port}/to-intranet"]
    public.route("/to-intranet", Reply(302, headers={"Location": world.intranet.url("/secret")}))
    items = [Item("公开的文章", good, guid="good")] + [Item(f"内部{i}", link, guid=f"in-{i}")
                                                     for i, link in enumerate(internal)]
    public.route("/feed.xml", Reply(body=rss("public", items), headers={"Content-Type": "application/rss+xml"}))
    config = write_config(tmp_path, [FeedConfig(f"http://news.example:{port}/feed.xml", "public")],
                          allow_private=False)
    with caplog.at_level(logging.INFO, logger="crawler"):
        assert main(["once", "-c", str(config)]) == 0
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == len(internal)
    for link in internal:
        [line] = [e for e in errors if f"public: {link}: " in e]
        assert "set network.allow_private: true or list the host in network.allowed_hosts" in line
        assert line.endswith("given up after 1 attempt(s)")
    assert any(r.getMessage().startswith("archived ") for r in caplog.records)


def test_without_allow_private_no_request_reaches_a_local_feed(tmp_path):
    """What the farm drill checks with `network.allow_private` removed: every loopback spelling refused."""
    with LocalServer() as server:
        server.route("/feed.xml", Reply(body=rss("x", []), headers={"Content-Type": "application/rss+xml"}))
        spellings = ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "2130706433", "0.0.0.0"]
        config = write_config(tmp_path, [FeedConfig(f"http://{host}:{server.port}/feed.xml", f"feed {host}")
                                         for host in spellings], allow_private=False)
        run = run_crawler(["once", "-c", str(config)])
        assert run.returncode == 1
        assert server.requests == []
        assert len(run.errors()) == len(spellings)
        assert all("set network.allow_private: true" in line for line in run.errors())
