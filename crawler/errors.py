"""Every error the crawler reports on purpose.

Each message is one line a person can act on: which feed or URL, what happened, what to do. Anything that
is not a `CrawlerError` is a bug and is logged with its traceback at debug level.
"""
from __future__ import annotations


class CrawlerError(Exception):
    """Base class; `str(error)` is the one-line report."""


class ConfigError(CrawlerError):
    """The configuration file or environment is invalid; nothing was fetched."""


class LockHeld(CrawlerError):
    """Another crawler process is writing to the same archive."""


class StateError(CrawlerError):
    """The state database cannot be opened or written."""


class ArchiveError(CrawlerError):
    """A post could not be written (disk full, read-only directory...): a local problem, not the source's."""


# --- fetching -------------------------------------------------------------------------------------------


class FetchError(CrawlerError):
    """A URL could not be fetched.

    `retryable` errors are retried within the request (with backoff); `permanent` ones are not worth trying
    again on a later run either (robots.txt says no, 404/410, a scheme we refuse).
    """

    retryable = False
    permanent = False

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason

    def __reduce__(self):  # errors cross from the extraction processes: rebuild them from their fields
        return (type(self), (self.url, self.reason))


class HTTPStatusError(FetchError):
    def __reduce__(self):
        return (type(self), (self.url, self.status, self.retry_after))

    def __init__(self, url: str, status: int, retry_after: float | None = None):
        hint = ""
        if status == 429:
            hint = " (rate limited)"
        elif status in (401, 403):
            hint = " (access refused; the site may block crawlers)"
        super().__init__(url, f"HTTP {status}{hint}")
        self.status = status
        self.retry_after = retry_after
        self.retryable = status == 429 or status >= 500
        self.permanent = status in (404, 410)


class TransportError(FetchError):
    """Connection refused or reset, DNS failure, TLS failure, timeout: worth retrying."""

    retryable = True


class FetchTimeout(TransportError):
    pass


class BlockedByRobots(FetchError):
    permanent = True


class BlockedAddress(FetchError):
    """The host resolves to an address the network policy refuses (loopback, private, ...)."""

    permanent = True


class UnsupportedScheme(FetchError):
    permanent = True


class TooManyRedirects(FetchError):
    permanent = True


class BodyTooLarge(FetchError):
    """The body, or its decompressed form, exceeds the configured cap."""

    permanent = True


class BadResponse(FetchError):
    """The response cannot be used: unknown content-encoding, corrupt compression, oversized headers."""


# --- parsing and extraction -----------------------------------------------------------------------------


class FeedError(CrawlerError):
    """The document is not a feed we can read (an HTML page, a JSON document that is no JSON Feed...)."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason

    def __reduce__(self):
        return (type(self), (self.url, self.reason))


class ExtractionError(CrawlerError):
    """The page holds no article text we can isolate (not HTML, empty, binary...)."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason

    def __reduce__(self):
        return (type(self), (self.url, self.reason))
