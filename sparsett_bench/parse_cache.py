"""A cache of parsed number files, so a repeated ``report`` does not parse them again.

Parsing decimal text is the floor of evaluation time (0.1-0.8 us per value with numpy's C
``loadtxt``, the parser the got10k toolkit uses too). Annotations never change and results
rarely do, so parsed arrays are kept per *container* -- a folder, or a zip -- in one index
file holding every member's array. A member is served from the index only when its stamp
still matches: for a file its size, mtime, ctime and inode (ctime changes on every write and
cannot be set back by users, so an edited file is never served stale); for a zip member the
zip's stamp plus the member's CRC-32 and size from the zip directory. Checking a folder of
results therefore costs one ``stat`` per file and one read of the index.

One level up, `cached_tree` keeps whatever a whole small tree was turned into (all sequences
of an annotation folder, all results of a tracker) in one file, valid while `tree_fingerprint`
-- every file's path, size, mtime and ctime -- is unchanged: a repeated ``report`` then reads
one file per folder instead of hundreds.

Files live in ``$SPARSETT_CACHE_DIR/index`` and ``.../trees`` (default
``~/.cache/sparsett-bench``; ``SPARSETT_CACHE_DIR=off`` disables caching). They are written
atomically (indexes at exit or by `flush`) and carry a CRC-32: a damaged or foreign file is
ignored and rebuilt. Their names include `code_stamp`, so another version of this code never
reads them. Safe to delete.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import json
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sparsett_bench.atomic import write_bytes_atomic

_MAGIC = b"SPARSETT-INDEX-1\n"
_TREE_MAGIC = b"SPARSETT-TREE-1\n"
Stamp = tuple[int, ...]


def cache_root() -> Path | None:
    """The project's cache folder, or None when ``SPARSETT_CACHE_DIR=off``."""
    return _cache_root_for(os.environ.get("SPARSETT_CACHE_DIR"))


@functools.cache
def _cache_root_for(setting: str | None) -> Path | None:
    if setting is not None and setting.strip().lower() in ("", "off", "0", "none"):
        return None
    return Path(setting) if setting else Path.home() / ".cache" / "sparsett-bench"


@functools.cache
def code_stamp() -> str:
    """A digest of this package's files (path, size, mtime), its code and its sequence specs:
    what is cached was made by them, so an upgraded or edited sparsett-bench never reads its
    older parses."""
    package = Path(__file__).resolve().parent
    lines = sorted(
        f"{path.relative_to(package)}\0{info.st_size}\0{info.st_mtime_ns}"
        for path in package.rglob("*")
        if "__pycache__" not in path.parts and path.is_file() and (info := path.stat())
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def file_stamp(stat: os.stat_result) -> Stamp:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


class _Index:
    """Parsed arrays of one container's members, with the stamp each was parsed from."""

    def __init__(self, path: Path, container: Path) -> None:
        self.path = path
        self.container = container
        self.entries: dict[str, tuple[list[int], np.ndarray]] = {}
        self.dirty = False
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            self._read(path.read_bytes())

    def _read(self, raw: bytes) -> None:
        body, check = raw[:-4], raw[-4:]
        if not body.startswith(_MAGIC) or zlib.crc32(body).to_bytes(4, "little") != check:
            return
        (size,) = struct.unpack_from("<I", body, len(_MAGIC))
        start = len(_MAGIC) + 4
        header = json.loads(body[start : start + size])
        payload = np.frombuffer(body, dtype="<f8", offset=start + size)
        for member, (stamp, offset, rows, columns) in header.items():
            values = payload[offset : offset + rows * columns].reshape(rows, columns)
            self.entries[member] = (stamp, values)

    def get(self, member: str, stamp: Stamp) -> np.ndarray | None:
        hit = self.entries.get(member)
        return hit[1].copy() if hit is not None and hit[0] == list(stamp) else None

    def put(self, member: str, stamp: Stamp, values: np.ndarray) -> None:
        self.entries[member] = (list(stamp), np.array(values, dtype="<f8", copy=True))
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        header, chunks, offset = {}, [], 0
        for member, (stamp, values) in self.entries.items():
            rows, columns = values.shape
            header[member] = (stamp, offset, rows, columns)
            chunks.append(values.tobytes())
            offset += rows * columns
        encoded = json.dumps(header).encode()
        pad = b" " * (-(len(_MAGIC) + 4 + len(encoded)) % 8)  # keeps the payload 8-aligned
        encoded += pad
        body = _MAGIC + struct.pack("<I", len(encoded)) + encoded + b"".join(chunks)
        with contextlib.suppress(OSError):  # a read-only or full cache never breaks a report
            write_bytes_atomic(
                self.path, body + zlib.crc32(body).to_bytes(4, "little"), durable=False
            )
        self.dirty = False


_INDEXES: dict[str, _Index] = {}


def cached_parse(
    container: Path, member: str, stamp: Stamp, parse: Callable[[], np.ndarray]
) -> np.ndarray:
    """``parse()``'s result for ``member`` of ``container``, reused while ``stamp`` holds."""
    root = cache_root()
    if root is None:
        return parse()
    index = _INDEXES.get(str(container))
    if index is None:
        index = _INDEXES[str(container)] = _index_for(root, Path(container).resolve())
    values = index.get(member, stamp)
    if values is None:
        values = parse()
        index.put(member, stamp, values)
    return values


def _index_for(root: Path, container: Path) -> _Index:
    """One `_Index` per resolved container, however the caller spelled its path."""
    for index in _INDEXES.values():
        if index.container == container:
            return index
    digest = hashlib.sha256(f"{code_stamp()}\0{container}".encode()).hexdigest()[:32]
    return _Index(root / "index" / f"{digest}.idx", container)


@atexit.register
def flush() -> None:
    """Write every index that gained entries (also run at interpreter exit)."""
    for index in _INDEXES.values():
        index.save()


def forget() -> None:
    """Drop the in-memory indexes (tests: force the next lookup to read from disk)."""
    flush()
    _INDEXES.clear()


def tree_fingerprint(root: Path, limit: int = 20_000) -> str | None:
    """A digest of every file's path, size, mtime and ctime under ``root`` (a folder or a
    file), or None when the tree holds more than ``limit`` entries (a full dataset with its
    images: too big to fingerprint on every run)."""
    root = Path(root)
    if root.is_file():
        return hashlib.sha256(repr(file_stamp(root.stat())).encode()).hexdigest()
    lines: list[str] = []
    pending, seen = [root], set()
    while pending:
        folder = pending.pop()
        real = os.path.realpath(folder)
        if real in seen:  # a symbolic-link cycle, or a folder reached twice
            continue
        seen.add(real)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return None
        if len(lines) + len(entries) > limit:
            return None
        for entry in entries:
            if entry.is_dir(follow_symlinks=True):
                pending.append(Path(entry.path))
            else:
                info = entry.stat()
                lines.append(
                    f"{entry.path}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ctime_ns}"
                )
    lines.sort()
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def cached_tree(
    kind: str,
    root: Path,
    params: str,
    build: Callable[[], object],
    encode: Callable[[object], dict[str, np.ndarray | str]],
    decode: Callable[[dict[str, np.ndarray | str]], object],
) -> object:
    """``build()``'s result for a small tree (annotation folder, results folder), stored as
    plain arrays and strings (no pickle) and reused while `tree_fingerprint` is unchanged."""
    cache = cache_root()
    fingerprint = tree_fingerprint(root) if cache is not None else None
    if fingerprint is None:
        return build()
    key = f"{code_stamp()}\0{kind}\0{Path(root).resolve()}\0{params}"
    key = hashlib.sha256(key.encode()).hexdigest()[:32]
    path = cache / "trees" / f"{key}.bin"
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError), path.open("rb") as handle:
        buffer = np.empty(os.fstat(handle.fileno()).st_size, dtype=np.uint8)
        handle.readinto(buffer)  # arrays below are writable views of this one buffer
        stored = _read_arrays(buffer)
        if stored.get("fingerprint") == fingerprint:
            return decode(stored)
    value = build()
    with contextlib.suppress(OSError):
        write_bytes_atomic(
            path, _write_arrays({**encode(value), "fingerprint": fingerprint}), durable=False
        )
    return value


def _write_arrays(items: dict[str, np.ndarray | str]) -> bytes:
    """Strings in a JSON header, arrays as raw bytes after it, a CRC-32 at the end."""
    header: dict[str, object] = {}
    chunks, offset = [], 0
    for name, value in items.items():
        if isinstance(value, str):
            header[name] = value
            continue
        data = np.ascontiguousarray(value)
        header[name] = [data.dtype.str, list(data.shape), offset]
        chunks.append(data.tobytes())
        offset += len(chunks[-1])
        pad = -offset % 8
        chunks.append(b"\0" * pad)
        offset += pad
    encoded = json.dumps(header).encode()
    encoded += b" " * (-(len(_TREE_MAGIC) + 4 + len(encoded)) % 8)
    body = _TREE_MAGIC + struct.pack("<I", len(encoded)) + encoded + b"".join(chunks)
    return body + zlib.crc32(body).to_bytes(4, "little")


def _read_arrays(raw: np.ndarray) -> dict[str, np.ndarray | str]:
    body, check = raw[:-4], raw[-4:].tobytes()
    magic = len(_TREE_MAGIC)
    if body[:magic].tobytes() != _TREE_MAGIC or zlib.crc32(body).to_bytes(4, "little") != check:
        raise ValueError("not an intact cache entry")
    (size,) = struct.unpack_from("<I", body, magic)
    start = magic + 4 + size
    out: dict[str, np.ndarray | str] = {}
    for name, spec in json.loads(body[magic + 4 : start].tobytes()).items():
        if isinstance(spec, str):
            out[name] = spec
            continue
        dtype, shape, offset = np.dtype(spec[0]), spec[1], spec[2]
        count = int(np.prod(shape))
        out[name] = np.frombuffer(body, dtype, count, start + offset).reshape(shape)
    return out
