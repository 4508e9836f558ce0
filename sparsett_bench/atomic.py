"""Atomic file writes: a reader (or a restarted job) sees the old file or the new one, never a
torn one. The data goes to a temporary file in the same folder, is flushed to disk, and is then
renamed over the target; on any error the temporary file is removed and the target is untouched.
The result has the mode a plain ``open`` or ``mkdir`` gives under the umask, not the private
0600/0700 of ``tempfile``, so that a group sharing a server can read results and reports.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _read_umask() -> int:
    mask = os.umask(0)  # the umask can only be read by setting it
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def default_mode(directory: bool = False) -> int:
    """What ``open`` (0666) or ``mkdir`` (0777) would give under this process's umask."""
    return (0o777 if directory else 0o666) & ~_UMASK


def write_bytes_atomic(path: str | Path, data: bytes, durable: bool = True) -> None:
    """``durable=False`` skips the fsync: for caches that verify what they read back."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "a folder, where a file is to be written", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, default_mode())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_folder(target: str | Path) -> Iterator[Path]:
    """Build a folder in a temporary sibling and swap it in only when the block succeeds, so
    a reader never sees a half-written folder; on any error the staging folder is removed
    and ``target`` is left as it was."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        staging.chmod(default_mode(directory=True))
        yield staging
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
