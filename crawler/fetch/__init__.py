"""Fetching feeds and pages over HTTP: limits, retries, caps, redirects, robots.txt and the address guard."""
from .client import Fetcher

__all__ = ["Fetcher"]
