"""Safe extraction of zip and tar archives into a dataset root.

A member is refused -- and nothing is extracted -- when it would land outside the target
folder: an absolute path, a Windows drive, ``..`` components, or a symbolic or hard link
whose target resolves outside. Extraction goes to a temporary folder beside the target and is
moved in only when complete; a ``.<archive>.extracted`` stamp then marks it done, so an
interrupted extraction is redone and a finished one is skipped.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from sparsett_bench.atomic import write_text_atomic
from sparsett_bench.errors import SparsettError


class UnsafeArchiveError(SparsettError):
    """An archive member would be written outside the target folder."""


class CorruptArchiveError(SparsettError):
    """The file is not an archive, or a damaged one, or one in an unsupported format."""


def _stamp(archive: Path, target: Path) -> Path:
    return target / f".{archive.name}.extracted"


def is_extracted(archive: Path, target: Path) -> bool:
    """The stamp is there, for this archive: the size it records is the archive's (a new
    release downloaded over the old one is extracted again), or the archive was deleted after
    extraction, as users do to free the space."""
    try:
        recorded = _stamp(archive, target).read_text().strip()
    except OSError:
        return False
    return not archive.is_file() or recorded == str(archive.stat().st_size)


def _check_name(archive: Path, name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or (path.parts and ":" in path.parts[0]) or ".." in path.parts:
        raise UnsafeArchiveError(
            f"{archive}: member {name!r} would be written outside the target folder"
        )
    return path


def _check_link(archive: Path, name: str, link: str) -> None:
    """A link's target, taken relative to the link's folder, must stay inside the root."""
    target = PurePosixPath(link.replace("\\", "/"))
    depth = len(PurePosixPath(name).parts) - 1
    for part in target.parts:
        depth = depth - 1 if part == ".." else depth + (part not in (".", ""))
        if depth < 0:
            break
    if target.is_absolute() or depth < 0:
        raise UnsafeArchiveError(
            f"{archive}: link {name!r} -> {link!r} points outside the target folder"
        )


def _members_zip(archive: Path, handle: zipfile.ZipFile) -> None:
    for info in handle.infolist():
        _check_name(archive, info.filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            _check_link(archive, info.filename, handle.read(info).decode("utf-8", "replace"))


def _members_tar(archive: Path, handle: tarfile.TarFile) -> None:
    for member in handle.getmembers():
        _check_name(archive, member.name)
        if member.issym():
            _check_link(archive, member.name, member.linkname)
        elif member.islnk():
            _check_name(archive, member.linkname)
        elif not (member.isfile() or member.isdir()):
            raise UnsafeArchiveError(f"{archive}: member {member.name!r} is a device or fifo")


def _unpack(archive: Path, staging: Path) -> None:
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as handle:
            _members_zip(archive, handle)
            handle.extractall(staging)
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as handle:
            _members_tar(archive, handle)
            try:
                handle.extractall(staging, filter="tar")
            except tarfile.FilterError as exc:  # e.g. a chain of links leading outside
                raise UnsafeArchiveError(f"{archive}: {exc}") from None
    else:
        raise CorruptArchiveError(f"{archive}: not a zip or tar archive")


def extract(archive: Path, target: Path) -> bool:
    """Extract ``archive`` into ``target`` safely; returns False when already done."""
    archive, target = Path(archive), Path(target)
    if is_extracted(archive, target):
        return False
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target, prefix=f".{archive.name}."))
    try:
        try:
            _unpack(archive, staging)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, NotImplementedError) as exc:
            # a damaged download (bad CRC, cut short) or an unsupported compression method
            raise CorruptArchiveError(f"{archive}: cannot be extracted ({exc})") from None
        for entry in staging.iterdir():
            destination = target / entry.name
            if destination.is_dir() and entry.is_dir():
                shutil.copytree(entry, destination, dirs_exist_ok=True)
            else:
                os.replace(entry, destination)
        write_text_atomic(_stamp(archive, target), f"{archive.stat().st_size}\n")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return True
