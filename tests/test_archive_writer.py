"""Atomic writes and the archive lock."""
from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from crawler.archive import ArchiveLock, write_atomic
from crawler.archive.writer import write_all
from crawler.errors import ArchiveError, LockHeld

REPO = Path(__file__).resolve().parents[1]
TEMP_NAME = re.compile(r"^\.post\.md\.tmp-[0-9a-f]{8}$")


def listing(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def fail_with(code: int):
    def fail(*args: object, **kwargs: object):
        raise OSError(code, os.strerror(code))

    return fail


def run_python(code: str, **kwargs: object) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, text=True, stdout=subprocess.PIPE, **kwargs
    )


# --- write_atomic ---------------------------------------------------------------------------------------


def test_write_creates_the_directory_and_leaves_only_the_post(tmp_path):
    path = tmp_path / "财经" / "2022" / "02" / "post.md"
    write_atomic(path, "---\ntitle: 标题\n---\n正文\n")
    assert path.read_text(encoding="utf-8") == "---\ntitle: 标题\n---\n正文\n"
    assert listing(path.parent) == ["post.md"]


def test_write_replaces_an_existing_post(tmp_path):
    path = tmp_path / "post.md"
    write_atomic(path, "old\n")
    write_atomic(path, "new\n")
    assert path.read_text() == "new\n"
    assert listing(tmp_path) == ["post.md"]


def test_new_posts_get_the_usual_file_mode(tmp_path):
    previous = os.umask(0o022)
    try:
        write_atomic(tmp_path / "post.md", "text\n")
    finally:
        os.umask(previous)
    assert (tmp_path / "post.md").stat().st_mode & 0o777 == 0o644  # readable by a Hexo run as another user


def test_the_temporary_file_is_hidden_beside_the_post(tmp_path, monkeypatch):
    renamed = []
    real_replace = os.replace

    def spy(source, target):
        renamed.append((Path(source), Path(target)))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", spy)
    write_atomic(tmp_path / "post.md", "text\n")
    [(source, target)] = renamed
    assert source.parent == tmp_path and TEMP_NAME.match(source.name)
    assert target == tmp_path / "post.md"


def test_disk_full_during_the_write_leaves_the_old_post_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "post.md"
    write_atomic(path, "old\n")
    real_write = os.write

    def write_half_then_fill_the_disk(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", write_half_then_fill_the_disk)
    with pytest.raises(ArchiveError) as caught:
        write_atomic(path, "new text " * 1000)
    assert str(caught.value).startswith(f"cannot write {path}: no space left on device")
    assert "\n" not in str(caught.value)
    assert path.read_text() == "old\n"
    assert listing(tmp_path) == ["post.md"]


def test_disk_full_on_a_new_post_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "fsync", fail_with(errno.ENOSPC))
    with pytest.raises(ArchiveError, match="no space left on device"):
        write_atomic(tmp_path / "post.md", "text\n")
    assert listing(tmp_path) == []


def test_failed_rename_removes_the_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "post.md"
    write_atomic(path, "old\n")
    monkeypatch.setattr(os, "replace", fail_with(errno.EIO))
    with pytest.raises(ArchiveError, match="input/output error"):
        write_atomic(path, "new\n")
    assert path.read_text() == "old\n"
    assert listing(tmp_path) == ["post.md"]


def test_a_batch_flushes_each_directory_once_after_its_renames(tmp_path, monkeypatch):
    events: list[str] = []
    real_replace, real_fsync, real_open = os.replace, os.fsync, os.open
    directories: dict[int, str] = {}

    def spy_open(path, flags, *args):
        fd = real_open(path, flags, *args)
        if flags & os.O_DIRECTORY:
            directories[fd] = Path(path).name
        return fd

    def spy_fsync(fd):
        if fd in directories:
            events.append("flush " + directories.pop(fd))
        real_fsync(fd)

    monkeypatch.setattr(os, "open", spy_open)
    monkeypatch.setattr(os, "fsync", spy_fsync)
    monkeypatch.setattr(os, "replace", lambda source, target: (events.append("rename " + Path(target).name),
                                                               real_replace(source, target)))
    problems = write_all([(tmp_path / "day1" / "a.md", "a\n"), (tmp_path / "day2" / "b.md", "b\n"),
                          (tmp_path / "day1" / "c.md", "c\n")])
    assert problems == [None, None, None]
    assert events == ["rename a.md", "rename b.md", "rename c.md", "flush day1", "flush day2"]
    assert (tmp_path / "day1" / "c.md").read_text() == "c\n"


def test_a_file_that_fails_in_a_batch_fails_alone(tmp_path, monkeypatch):
    real_replace = os.replace

    def refuse_b(source, target):
        if Path(target).name == "b.md":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", refuse_b)
    first, second, third = write_all([(tmp_path / "a.md", "a\n"), (tmp_path / "b.md", "b\n"),
                                      (tmp_path / "c.md", "c\udc80\n")])
    assert first is None and (tmp_path / "a.md").read_text() == "a\n"
    assert isinstance(second, ArchiveError) and "no space left on device" in str(second)
    assert isinstance(third, ArchiveError) and "UTF-8 cannot encode" in str(third)
    assert listing(tmp_path) == ["a.md"]


def test_a_failed_directory_flush_fails_the_posts_renamed_into_it(tmp_path, monkeypatch):
    real_fsync, real_open = os.fsync, os.open
    directories: set[int] = set()

    def spy_open(path, flags, *args):
        fd = real_open(path, flags, *args)
        if flags & os.O_DIRECTORY and Path(path).name == "bad":
            directories.add(fd)
        return fd

    def fsync(fd):
        if fd in directories:
            directories.discard(fd)  # closed after this: the number may name another file next
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    monkeypatch.setattr(os, "open", spy_open)
    monkeypatch.setattr(os, "fsync", fsync)
    problems = write_all([(tmp_path / "bad" / "a.md", "a\n"), (tmp_path / "good" / "b.md", "b\n"),
                          (tmp_path / "bad" / "c.md", "c\n")])
    assert [p is None for p in problems] == [False, True, False]
    assert all("input/output error" in str(p) for p in (problems[0], problems[2]))


def test_read_only_file_system_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "open", fail_with(errno.EROFS))
    with pytest.raises(ArchiveError) as caught:
        write_atomic(tmp_path / "post.md", "text\n")
    assert str(caught.value).startswith(f"cannot write {tmp_path / 'post.md'}: read-only file system")
    assert "\n" not in str(caught.value)


def test_read_only_directory_is_reported(tmp_path):
    directory = tmp_path / "locked"
    directory.mkdir()
    directory.chmod(0o555)
    try:
        if os.access(directory, os.W_OK):
            pytest.skip("permissions are not enforced for this user (root): cannot make a read-only directory")
        with pytest.raises(ArchiveError, match="permission denied"):
            write_atomic(directory / "post.md", "text\n")
        assert listing(directory) == []
    finally:
        directory.chmod(0o755)


def test_text_utf8_cannot_encode_is_refused_before_touching_the_disk(tmp_path):
    with pytest.raises(ArchiveError, match="cannot encode"):
        write_atomic(tmp_path / "post.md", "lone \udc80 surrogate")
    assert listing(tmp_path) == []


def test_a_crash_before_the_rename_leaves_the_old_post_whole(tmp_path):
    path = tmp_path / "post.md"
    write_atomic(path, "old\n")
    # The child dies (SIGKILL, no cleanup possible) once the new text is written but not yet renamed.
    child = run_python(
        f"""
        import os, signal
        from pathlib import Path
        from crawler.archive import write_atomic
        os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)
        write_atomic(Path({str(path)!r}), "new text " * 100_000)
        """
    )
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert path.read_text() == "old\n"
    leftovers = [name for name in listing(tmp_path) if name != "post.md"]
    assert len(leftovers) == 1 and TEMP_NAME.match(leftovers[0])  # hidden: Hexo skips it


# --- ArchiveLock ----------------------------------------------------------------------------------------


def test_lock_records_the_holder_and_can_be_taken_again_after_release(tmp_path):
    with ArchiveLock(tmp_path) as lock:
        assert lock.path == tmp_path / ".crawler.lock"
        assert lock.path.read_text().strip() == str(os.getpid())
    with ArchiveLock(tmp_path):
        pass


def test_second_lock_on_the_same_archive_is_refused(tmp_path):
    with ArchiveLock(tmp_path):
        with pytest.raises(LockHeld) as caught:
            with ArchiveLock(tmp_path):
                pass
    message = str(caught.value)
    assert message.startswith(f"another crawler (pid {os.getpid()}) is writing to archive {tmp_path};")
    assert "\n" not in message


def test_lock_held_by_another_process_names_its_pid(tmp_path):
    child = run_python(
        f"""
        import sys
        from pathlib import Path
        from crawler.archive import ArchiveLock
        with ArchiveLock(Path({str(tmp_path)!r})):
            print("locked", flush=True)
            sys.stdin.readline()
        """,
        stdin=subprocess.PIPE,
    )
    try:
        assert child.stdout.readline() == "locked\n"
        with pytest.raises(LockHeld, match=rf"another crawler \(pid {child.pid}\)"):
            with ArchiveLock(tmp_path):
                pass
    finally:
        child.communicate("done\n", timeout=30)
    with ArchiveLock(tmp_path):
        pass


def test_lock_of_a_killed_crawler_is_free(tmp_path):
    child = run_python(
        f"""
        import os, signal
        from pathlib import Path
        from crawler.archive import ArchiveLock
        with ArchiveLock(Path({str(tmp_path)!r})):
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with ArchiveLock(tmp_path):
        pass


def test_lock_on_an_unwritable_archive_is_an_archive_error(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "open", fail_with(errno.EACCES))
    with pytest.raises(ArchiveError, match="cannot write .*crawler.lock: permission denied"):
        with ArchiveLock(tmp_path):
            pass
