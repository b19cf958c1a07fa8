"""Writing posts: atomically, so Hexo and readers see the old file or the new one, never a partial one.

Two locks keep processes sharing an archive apart. `ArchiveLock` is held for a whole run: one `once` or
daemon (`.crawler.lock`) and one backfill (`.backfill.lock`) at a time. `CommitLock` is held around each
batch of "is this story new? then write it" (milliseconds, a fraction of a second for a full batch), so the
daemon and a backfill, running side by side, never both find a story new.
"""
from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import secrets
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import AsyncIterator, Iterator, Sequence

from ..errors import ArchiveError, LockHeld
from .paths import truncate_utf8

LOCK_NAME = ".crawler.lock"
BACKFILL_LOCK_NAME = ".backfill.lock"
COMMIT_LOCK_NAME = ".crawler.commit.lock"
LOCK_FILES = (LOCK_NAME, BACKFILL_LOCK_NAME, COMMIT_LOCK_NAME)
"""Hidden files of the archive's root that belong there (every other hidden file is a leftover)."""
_TEMP_NAME_BYTES = 200  # of the final name kept in the temporary one, leaving room for the dot and suffix
_HINTS = {
    errno.ENOSPC: "free some disk space",
    errno.EDQUOT: "raise the disk quota or free some space",
    errno.EROFS: "mount it read-write or point archive.dir elsewhere",
    errno.EACCES: "give the crawler's user write access or point archive.dir elsewhere",
    errno.EPERM: "give the crawler's user write access or point archive.dir elsewhere",
}


def write_atomic(path: Path, text: str) -> None:
    """Write `text` as UTF-8 to `path`, creating its directory: after a crash `path` holds the old content
    or the new, never a part.

    The text goes to a hidden temporary file beside `path` (`.name.tmp-XXXXXXXX`, which Hexo skips), is
    flushed to disk, then renamed over `path`; the directory is flushed so the rename survives a power cut.
    The temporary file is removed on error. Any OSError becomes an ArchiveError naming `path` and the cause.
    """
    problem, = write_all([(path, text)])
    if problem is not None:
        raise problem


def write_all(files: Sequence[tuple[Path, str]]) -> list[ArchiveError | None]:
    """`write_atomic` for each (path, text), returning per file None or the ArchiveError that kept it from
    disk (the others are written all the same). Each directory is flushed once, after all its renames: a
    batch of posts for one day costs one directory flush, not one per post."""
    problems: list[ArchiveError | None] = []
    renamed_into: dict[Path, list[int]] = {}
    for path, text in files:
        try:
            _replace_with(path, text)
        except ArchiveError as error:
            problems.append(error)
            continue
        renamed_into.setdefault(path.parent, []).append(len(problems))
        problems.append(None)
    for directory, written in renamed_into.items():
        try:
            _fsync_directory(directory)
        except OSError as error:
            for n in written:
                problems[n] = _archive_error(files[n][0], error)
    return problems


def _replace_with(path: Path, text: str) -> None:
    """Write `text` to a flushed temporary file beside `path` and rename it over `path` (ArchiveError)."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as error:
        reason = f"the text holds a character UTF-8 cannot encode ({error.reason})"
        raise ArchiveError(f"cannot write {path}: {reason}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = _write_temp_file(path, data)
    except OSError as error:
        raise _archive_error(path, error) from None
    try:
        os.replace(temp, path)
    except OSError as error:
        _remove_quietly(temp)
        raise _archive_error(path, error) from None


class ArchiveLock:
    """Exclusive hold on an archive for one crawler process: `with ArchiveLock(root): ...`.

    A non-blocking `flock` on `{root}/.crawler.lock`, which holds the owner's pid for the message another
    process gets. The lock goes with the process, so a crashed crawler never leaves a stale one; the file
    stays (deleting it would let two processes lock two different files).
    """

    def __init__(self, root: Path, name: str = LOCK_NAME):
        self.root = root
        self.path = root / name
        self._fd: int | None = None

    def __enter__(self) -> ArchiveLock:
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this ArchiveLock")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as error:
            raise _archive_error(self.path, error) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            what = "backfill" if self.path.name == BACKFILL_LOCK_NAME else "crawler"
            raise LockHeld(
                f"another {what} (pid {holder}) is writing to archive {self.root}; "
                "wait for it to finish, or stop it before starting this one"
            ) from None
        except OSError as error:
            os.close(fd)
            raise _archive_error(self.path, error) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # the pid only improves another process's message; the lock itself is held
        self._fd = fd
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None


class CommitLock:
    """The archive's commit lock: an exclusive `flock` on `{root}/.crawler.commit.lock`, taken around dedup
    checks and the writes that follow them, by every process writing to the archive.

    Reentrant within a process: the pipeline holds it (`held_async`) across a whole commit, awaits included,
    and the synchronous changes other tasks make meanwhile (`held`: an appearance recorded, a revision) run to
    their end on the event loop without waiting for it: the process as a whole holds the lock.
    """

    _POLL = 0.005

    def __init__(self, root: Path):
        self.path = root / COMMIT_LOCK_NAME
        self._fd: int | None = None
        self._depth = 0

    @contextmanager
    def held(self) -> Iterator[None]:
        """Blocking: for the short synchronous updates made outside a commit."""
        if self._depth == 0:
            fcntl.flock(self._open(), fcntl.LOCK_EX)
        self._depth += 1
        try:
            yield
        finally:
            self._release()

    @asynccontextmanager
    async def held_async(self) -> AsyncIterator[None]:
        """Waits without blocking the event loop while another process commits."""
        if self._depth == 0:
            fd = self._open()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(self._POLL)
        self._depth += 1
        try:
            yield
        finally:
            self._release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _open(self) -> int:
        if self._fd is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            except OSError as error:
                raise _archive_error(self.path, error) from None
        return self._fd

    def _release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


# --- helpers --------------------------------------------------------------------------------------------


def _write_temp_file(path: Path, data: bytes) -> Path:
    fd, temp = _create_temp_file(path)
    try:
        try:
            view = memoryview(data)
            while view:  # os.write may write less than asked
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _remove_quietly(temp)
        raise
    return temp


def _create_temp_file(path: Path) -> tuple[int, Path]:
    # Not tempfile.mkstemp: its 0600 mode would hide posts from a Hexo run by another user; 0666 less the
    # umask gives the mode any other new file gets.
    prefix = f".{truncate_utf8(path.name, _TEMP_NAME_BYTES)}.tmp-"
    while True:
        temp = path.with_name(prefix + secrets.token_hex(4))
        try:
            return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), temp
        except FileExistsError:
            continue


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno != errno.EINVAL:  # some file systems cannot sync a directory: nothing more to do
            raise
    finally:
        os.close(fd)


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass  # the original error matters more; a leftover hidden file is skipped by Hexo


def _read_pid(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        pid = ""
    return pid if pid.isdigit() else "unknown"


def _archive_error(path: Path, error: OSError) -> ArchiveError:
    cause = os.strerror(error.errno) if error.errno else str(error)
    cause = cause[:1].lower() + cause[1:]
    hint = _HINTS.get(error.errno or 0)
    return ArchiveError(f"cannot write {path}: {cause}" + (f" ({hint})" if hint else ""))
