from collections.abc import Iterator

import pytest

from tests.support.server import LocalServer

_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    """A running LocalServer on 127.0.0.1 (see tests/support/server.py), stopped after the test."""
    with LocalServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_proxy_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to 127.0.0.1 directly: a developer's HTTP(S)_PROXY must not reroute them."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
