"""Proxies through a real `crawler once`: a feed's own `proxy:` carries its feed, pages and robots.txt (and
only those); `HTTPS_PROXY` tunnels HTTPS with CONNECT and the certificate is still checked against the site's
name; the address guard checks targets before they go to a proxy; only http(s) proxy URLs are accepted.
"""
from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.crawler_process import check_archive, run_crawler
from tests.support.proxy import VIA, ForwardProxy
from tests.support.server import LocalServer, Reply
from tests.support.site import FeedConfig, Item, article_page, paragraphs, rss, state_db, write_config

RSS_TYPE = {"Content-Type": "application/rss+xml"}


def publish(server: LocalServer, name: str, numbers: range, host: str | None = None) -> tuple[str, set[str]]:
    """A feed `/name.xml` of articles `/name/N.html` on `server`: its URL and the article links."""
    links = set()
    items = []
    for n in numbers:
        link = server.url(f"/{name}/{n}.html", host=host)
        server.route(f"/{name}/{n}.html", Reply.text(article_page(f"{name}第{n}篇", paragraphs(n))))
        items.append(Item(f"{name}第{n}篇", link, guid=f"{name}-{n}"))
        links.add(link)
    server.route(f"/{name}.xml", Reply(body=rss(name, items), headers=RSS_TYPE))
    return server.url(f"/{name}.xml", host=host), links


def test_a_feeds_own_proxy_carries_its_feed_pages_and_robots_txt(tmp_path, http_server):
    http_server.route("/robots.txt", Reply(body=b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"}))
    proxied_feed, proxied = publish(http_server, "abroad", range(0, 3))
    direct_feed, direct = publish(http_server, "home", range(10, 12))
    with ForwardProxy() as proxy:
        config = write_config(tmp_path, [FeedConfig(proxied_feed, "abroad", extra=(("proxy", proxy.url),)),
                                         FeedConfig(direct_feed, "home")])
        run = run_crawler(["once", "-c", str(config)])
        through_proxy = proxy.requests
    assert run.returncode == 0, run.stderr
    assert set(check_archive(tmp_path / "archive", state_db(tmp_path))) == proxied | direct
    assert {target for _, target in through_proxy} == {proxied_feed, http_server.url("/robots.txt")} | proxied
    via = {r.target for r in http_server.requests if r.headers.get("via") == VIA}
    assert via == {"/abroad.xml", "/robots.txt"} | {f"/abroad/{n}.html" for n in range(3)}
    assert not {f"/home/{n}.html" for n in range(10, 12)} & via



def test_backfill_walks_a_feeds_pages_through_its_own_proxy(tmp_path, http_server):
    http_server.route("/robots.txt", Reply(body=b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"}))
    older_feed, older = publish(http_server, "older", range(20, 22))
    newest_feed, newest = publish(http_server, "abroad", range(0, 2))
    page_one = rss("abroad", [Item(f"abroad第{n}篇", http_server.url(f"/abroad/{n}.html"), guid=f"abroad-{n}")
                              for n in range(0, 2)])
    next_link = f'<atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="next" href="{older_feed}"/>'
    http_server.route("/abroad.xml", Reply(body=page_one.replace(b"<channel>", f"<channel>{next_link}".encode()),
                                           headers=RSS_TYPE))
    with ForwardProxy() as proxy:
        config = write_config(tmp_path, [FeedConfig(newest_feed, "abroad", extra=(("proxy", proxy.url),))])
        run = run_crawler(["backfill", "--all", "-c", str(config)])
        through_proxy = {target for _, target in proxy.requests}
    assert run.returncode == 0, run.stderr
    assert set(check_archive(tmp_path / "archive", state_db(tmp_path))) == newest | older
    assert {newest_feed, older_feed} | newest | older <= through_proxy
    assert all(r.headers.get("via") == VIA for r in http_server.requests)


def make_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate and its key for the host name `name`."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name}"], check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"), "feeds.test")


@pytest.fixture
def tls_server(certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with LocalServer(tls=context) as server:
        yield server


def test_https_proxy_from_the_environment_tunnels_https_and_the_certificate_is_checked(tmp_path, tls_server,
                                                                                        certificate):
    """The crawler never resolves feeds.test (the proxy does): HTTPS_PROXY is the only way to the site."""
    feed, links = publish(tls_server, "wire", range(0, 2), host="feeds.test")
    config = write_config(tmp_path, [FeedConfig(feed, "wire")])
    with ForwardProxy(names={"feeds.test": "127.0.0.1"}) as proxy:
        run = run_crawler(["once", "-c", str(config)],
                          env={"HTTPS_PROXY": proxy.url, "SSL_CERT_FILE": str(certificate[0])})
        tunnels = proxy.requests
    assert run.returncode == 0, run.stderr
    assert set(check_archive(tmp_path / "archive", state_db(tmp_path))) == links
    assert {request for request in tunnels} == {("CONNECT", f"feeds.test:{tls_server.port}")}

    # Trusting another certificate only, the tunnel is there and TLS refuses the site all the same.
    other = tmp_path / "untrusted"
    other.mkdir()
    stranger, _ = make_certificate(other, "other.test")
    with ForwardProxy(names={"feeds.test": "127.0.0.1"}) as proxy:
        refused = run_crawler(["once", "-c", str(write_config(other, [FeedConfig(feed, "wire")]))],
                              env={"HTTPS_PROXY": proxy.url, "SSL_CERT_FILE": str(stranger)})
        assert proxy.requests, refused.stderr  # it went through the proxy
    assert refused.returncode == 1
    [error] = refused.errors()
    assert "feed 'wire'" in error and "certificate verify failed" in error


@pytest.mark.parametrize("bundle", ["/dev/null", "/nonexistent/ca.pem"])
def test_an_unusable_certificate_bundle_is_a_configuration_error(tmp_path, bundle):
    config = write_config(tmp_path, [FeedConfig("https://127.0.0.1:9/feed.xml", "x")])
    run = run_crawler(["once", "-c", str(config)], env={"SSL_CERT_FILE": bundle})
    assert run.returncode == 2
    [line] = run.log_lines
    assert "cannot set up TLS certificate checks" in line and "check SSL_CERT_FILE and SSL_CERT_DIR" in line


def test_a_feeds_proxy_wins_over_https_proxy(tmp_path, tls_server, certificate):
    feed, links = publish(tls_server, "wire", range(0, 2), host="feeds.test")
    names = {"feeds.test": "127.0.0.1"}
    with ForwardProxy(names=names) as environment_proxy, ForwardProxy(names=names) as feed_proxy:
        config = write_config(tmp_path, [FeedConfig(feed, "wire", extra=(("proxy", feed_proxy.url),))])
        run = run_crawler(["once", "-c", str(config)],
                          env={"HTTPS_PROXY": environment_proxy.url, "SSL_CERT_FILE": str(certificate[0])})
        assert environment_proxy.requests == [] and feed_proxy.requests
    assert run.returncode == 0, run.stderr
    assert set(check_archive(tmp_path / "archive", state_db(tmp_path))) == links


def test_targets_are_checked_before_they_go_to_a_proxy(tmp_path):
    with LocalServer(host="127.0.0.2") as intranet, ForwardProxy() as proxy:
        intranet.route("/feed.xml", Reply(body=rss("x", []), headers=RSS_TYPE))
        targets = [intranet.url("/feed.xml"), f"http://[::ffff:127.0.0.2]:{intranet.port}/feed.xml"]
        config = write_config(tmp_path, [FeedConfig(url, f"internal {i}", extra=(("proxy", proxy.url),))
                                         for i, url in enumerate(targets)], allow_private=False)
        run = run_crawler(["once", "-c", str(config)])
        assert proxy.requests == [] and intranet.requests == []
    assert run.returncode == 1
    assert len(run.errors()) == 2 and all("127.0.0.2, a loopback address" in e for e in run.errors())


@pytest.mark.parametrize("proxy", ["socks5://127.0.0.1:1080", "ftp://127.0.0.1:21", "127.0.0.1:3128",
                                   "http://127.0.0.1:3128/some/path", "http://"])
def test_only_http_and_https_proxy_urls_are_accepted(tmp_path, proxy):
    config = write_config(tmp_path, [FeedConfig("http://127.0.0.1:9/feed.xml", "x", extra=(("proxy", proxy),))])
    run = run_crawler(["once", "-c", str(config)])
    assert run.returncode == 2
    [line] = run.log_lines
    assert f"{config}:" in line and "feeds[0].proxy" in line and "write it as http://host:port" in line
    assert yaml.safe_load(config.read_text())["feeds"][0]["proxy"] == proxy
