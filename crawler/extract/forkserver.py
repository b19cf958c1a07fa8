"""Imported first, and only, by the extraction pool's forkserver process (multiprocessing preload).

Besides the modules the pool lists, it loads jieba's dictionary (about a second and 60 MB, for the company
names in Chinese text) with the shipped company table's names added: every worker forked from here then
starts with it, sharing its pages with the others, instead of each worker loading its own and adding the
names on its first Chinese article. `gc.freeze()` then keeps the collector
from writing to (and so copying) every object the workers inherit.

Stopping is the parent's job: SIGTERM from `kill -TERM -<pgid>` (systemd, container runtimes, drills) and
SIGINT from Ctrl-C reach the whole process group. The forkserver and every worker it forks (they inherit
this disposition) ignore them, so a graceful shutdown does not lose its running extractions, nor the
forkserver that would replace a worker.
"""
import signal

signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)

import gc  # noqa: E402

import crawler.extract.article  # noqa: E402,F401 - the pool's other preloads, imported here before the freeze
import crawler.feeds  # noqa: E402,F401
import crawler.metadata  # noqa: E402,F401
from crawler.enrich.names import preload_segmenter  # noqa: E402

preload_segmenter()
gc.freeze()
