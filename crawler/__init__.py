"""Finance-news feed crawler and archiver."""

__version__ = "0.1.0"
