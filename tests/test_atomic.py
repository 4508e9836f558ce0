"""Atomic writes: the target is the old file or the new one, and it gets the mode a plain
``open`` or ``mkdir`` would under the umask (``tempfile``'s 0600/0700 hid results from a
group sharing a server)."""

from __future__ import annotations

import stat
import subprocess
import sys

import pytest

from sparsett_bench.atomic import atomic_folder, write_bytes_atomic


@pytest.mark.parametrize(
    ("umask", "file_mode", "folder_mode"), [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)]
)
def test_files_and_folders_get_the_umask_mode(tmp_path, umask, file_mode, folder_mode) -> None:
    code = (
        f"import os; os.umask({umask}); from sparsett_bench.atomic import atomic_folder, "
        f"write_text_atomic; write_text_atomic({str(tmp_path / 'a.txt')!r}, 'x')\n"
        f"with atomic_folder({str(tmp_path / 'folder')!r}) as staging: (staging / 'b').touch()"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == file_mode
    assert stat.S_IMODE((tmp_path / "folder").stat().st_mode) == folder_mode


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch) -> None:
    import errno
    import os

    import sparsett_bench.atomic as atomic

    target = tmp_path / "results.txt"
    write_bytes_atomic(target, b"old")

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.txt"]
    with pytest.raises(KeyboardInterrupt), atomic_folder(tmp_path / "folder") as staging:
        (staging / "half").write_text("x")
        raise KeyboardInterrupt
    assert [p.name for p in tmp_path.iterdir()] == ["results.txt"]
