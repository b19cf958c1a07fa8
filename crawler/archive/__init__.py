"""The archive: one Markdown file per article, with YAML front matter, that Hexo publishes as is.

Layout: `{dir}/{category}/{source}/{feed name}/{YYYY}/{MM}/{slug}.md`, YYYY/MM of the publication date in
the archive time zone. `paths` names the files, `frontmatter` renders and parses them, `writer` writes them
atomically under a lock on the archive.
"""
from .frontmatter import clean_title, local_time, parse_post, render_post, rewrite_post
from .paths import is_safe_component, post_dir, safe_component, slugify, unique_post_path, url_disambiguator
from .writer import ArchiveLock, write_atomic

__all__ = [
    "ArchiveLock",
    "clean_title",
    "is_safe_component",
    "local_time",
    "parse_post",
    "post_dir",
    "render_post",
    "rewrite_post",
    "safe_component",
    "slugify",
    "unique_post_path",
    "url_disambiguator",
    "write_atomic",
]
