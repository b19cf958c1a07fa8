"""Run the crawler as a real process, as cron does, and look at what it left behind.

    run = run_crawler(["once", "-c", str(config)])            # python -m crawler once -c ...
    run = run_crawler([...], fault="kill-at-index:2")         # through tests/support/faults.py
    assert run.returncode == 0 and run.peak_rss_mb < 300
    check_archive(root, state_db)                              # every post whole, inside root, indexed once

The process gets a session of its own, so it and the extraction workers it starts can be found (and
killed, after a timeout) as one group. Memory comes from /proc, sampled every 20 ms while it runs: each
process's own high-water mark (VmHWM) and the sum of their resident sizes. Not `ru_maxrss` from `wait4`:
Linux charges a child started with vfork/exec with its parent's peak, here the whole pytest process.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from crawler.archive import is_safe_component, parse_post

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class CrawlerRun:
    returncode: int
    """Exit code, or minus the signal that ended the process (-9 for SIGKILL)."""
    stdout: str
    stderr: str
    peak_rss_mb: float
    """Peak resident memory of the crawler process (VmHWM)."""
    peak_session_process_mb: float
    """Largest peak resident memory of any process of the run (the crawler or an extraction worker)."""
    peak_session_total_mb: float
    """Largest sum of the resident sizes of all the run's processes at one moment, sampled."""
    survivors: list[int] = field(default_factory=list)
    """Processes of the run's session still alive a while after the crawler ended (should be none)."""

    @property
    def log_lines(self) -> list[str]:
        return self.stderr.splitlines()

    def lines_with(self, *needles: str) -> list[str]:
        """Log lines containing every one of `needles`."""
        return [line for line in self.log_lines if all(n in line for n in needles)]

    def errors(self) -> list[str]:
        return [line for line in self.log_lines if " ERROR " in line]


def run_crawler(
    args: Sequence[str],
    *,
    fault: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 180.0,
    wrapper: Sequence[str] = (),
    linger: float = 5.0,
) -> CrawlerRun:
    """Run `python -m crawler ARGS` (or the fault wrapper with `fault`) to its end and measure it.

    `wrapper` goes before the Python command (`unshare ...`, a shell script). `linger`: how long processes of
    the session may take to go once the crawler has ended (a killed crawler's workers notice its death).
    """
    environment = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    environment["PYTHONPATH"] = str(PROJECT_ROOT)
    environment.update(env or {})
    if fault:
        environment["CRAWLER_TEST_FAULT"] = fault
        command = [sys.executable, "-m", "tests.support.faults", *args]
    else:
        command = [sys.executable, "-m", "crawler", *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen([*wrapper, *command], stdout=out, stderr=err, env=environment,
                                   cwd=PROJECT_ROOT, start_new_session=True)
        sampler = _SessionSampler(process.pid)
        sampler.start()
        timer = threading.Timer(timeout, _kill_session, (process.pid,))
        timer.start()
        try:
            _, status = os.waitpid(process.pid, 0)
        finally:
            timer.cancel()
            sampler.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
        survivors = _wait_for_session_to_end(process.pid, linger)
        _kill_session(process.pid)
        out.seek(0)
        err.seek(0)
        return CrawlerRun(
            returncode=process.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            peak_rss_mb=sampler.peaks.get(process.pid, 0) / 2**20,
            peak_session_process_mb=max(sampler.peaks.values(), default=0) / 2**20,
            peak_session_total_mb=sampler.peak_total / 2**20,
            survivors=survivors,
        )


# --- the archive after a run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    path: Path
    front: dict
    body: str


def posts_by_link(root: Path) -> dict[str, Post]:
    """link → post, for every `.md` file Hexo would read; fails on two files for one link."""
    out: dict[str, Post] = {}
    for path in visible_files(root):
        if path.suffix != ".md":
            continue
        front, body = parse_post(path.read_text(encoding="utf-8"))
        link = front["link"]
        assert link not in out, f"two files for {link}: {out[link].path} and {path}"
        out[link] = Post(path, front, body)
    return out


def visible_files(root: Path) -> list[Path]:
    """Every file Hexo would see: none of its path components starts with `.` or `_`."""
    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        found += [Path(directory, f) for f in files if not f.startswith((".", "_"))]
    return sorted(found)


def hidden_files(root: Path) -> list[Path]:
    """Files Hexo skips (temporary files, the lock)."""
    return sorted(Path(d, f) for d, _, files in os.walk(root) for f in files if f.startswith("."))


def check_archive(root: Path, state_db: Path) -> dict[str, Post]:
    """What every run must leave, whatever happened to it: returns the posts by link.

    - every visible file is a `.md` post, not empty, whose front matter parses, inside `root`, with safe
      path components; one file per link;
    - the SQLite database passes `PRAGMA integrity_check` and its foreign keys hold;
    - the index and the files agree: each indexed path exists and names the post of its link.
    Files without an index row may exist (a crash between the rename and the commit): the next run adopts
    them, which the crash tests check separately.
    """
    resolved_root = root.resolve()
    posts = posts_by_link(root)
    for path in visible_files(root):
        assert path.suffix == ".md", f"{path}: a file Hexo would publish that is no post"
        assert path.stat().st_size > 0, f"{path} is empty"
        assert path.resolve().is_relative_to(resolved_root), f"{path} is outside {resolved_root}"
        parts = path.relative_to(root).parts
        assert all(is_safe_component(part) for part in parts), f"{path}: unsafe component"
    database = sqlite3.connect(state_db)
    try:
        assert database.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert database.execute("PRAGMA foreign_key_check").fetchall() == []
        indexed = database.execute("SELECT link, path FROM articles").fetchall()
    finally:
        database.close()
    for link, rel_path in indexed:
        path = root / rel_path
        assert path.is_file(), f"{rel_path} is indexed for {link} but missing"
        assert posts.get(link) is not None and posts[link].path == path, f"{rel_path} does not hold {link}"
    return posts


def indexed_links(state_db: Path) -> set[str]:
    database = sqlite3.connect(state_db)
    try:
        return {link for (link,) in database.execute("SELECT link FROM articles")}
    finally:
        database.close()


# --- process bookkeeping ---------------------------------------------------------------------------------


def session_processes(session: int) -> list[int]:
    """Live processes whose session id is `session` (zombies excluded)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[3]) == session:
            found.append(int(entry.name))
    return found


def _memory(pid: int) -> tuple[int, int]:
    """(resident size, its high-water mark) of `pid` in bytes; zeros once it is gone."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024
    except (OSError, KeyError, IndexError, ValueError):
        return 0, 0


class _SessionSampler(threading.Thread):
    def __init__(self, session: int):
        super().__init__(daemon=True)
        self._session = session
        self._stopped = threading.Event()
        self.peaks: dict[int, int] = {}
        """pid → its high-water mark."""
        self.peak_total = 0

    def run(self) -> None:
        while not self._stopped.wait(0.02):
            total = 0
            for pid in session_processes(self._session):
                resident, high_water = _memory(pid)
                self.peaks[pid] = max(self.peaks.get(pid, 0), high_water)
                total += resident
            self.peak_total = max(self.peak_total, total)

    def stop(self) -> None:
        self._stopped.set()
        self.join()


def _wait_for_session_to_end(session: int, linger: float) -> list[int]:
    deadline = time.monotonic() + linger
    while (alive := session_processes(session)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def _kill_session(session: int) -> None:
    for pid in session_processes(session):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
