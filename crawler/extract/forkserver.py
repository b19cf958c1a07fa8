"""Imported first, and only, by the extraction pool's forkserver process (multiprocessing preload).

Stopping is the parent's job: SIGTERM from `kill -TERM -<pgid>` (systemd, container runtimes, drills) and
SIGINT from Ctrl-C reach the whole process group. The forkserver and every worker it forks (they inherit
this disposition) ignore them, so a graceful shutdown does not lose its running extractions, nor the
forkserver that would replace a worker.
"""
import signal

signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
