"""Reading raw tracking results in every layout in use, and writing the project's own.

Layouts read (``tracker_dir`` is the folder named after the tracker):

* flat: ``<seq>.txt`` or ``<seq>.json`` (this project, the got10k toolkit's OTB family, pysot,
  the MATLAB toolkits' JSON export); times in ``<seq>_time.txt`` beside them or in ``times/``;
* pytracking: one parameter folder ``<param>/<seq>.txt``, or repeated runs
  ``<param>_000/``, ``<param>_001/`` ... (each folder one run; tab-separated ints);
* GOT-10k submission: ``<seq>/<seq>_001.txt`` .. ``_003.txt`` (one per run) and
  ``<seq>/<seq>_time.txt`` (one column per run);
* zips of any of these (the TrackingNet submission is a flat zip of ``<seq>.txt``).

Sequence names are matched with `NameMatcher`, so ``Jogging_1.txt`` scores ``Jogging-1``.
The project writes one canonical layout: ``results/<dataset>/<tracker>/<seq>.txt`` with
``<seq>_time.txt`` beside it; numbers are written as Python's shortest round-trip repr, so a
result read back is bit-identical to what the tracker produced.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from sparsett_bench.atomic import write_bytes_atomic
from sparsett_bench.box_files import format_rows, parse_box_bytes, parse_box_text, read_box_file
from sparsett_bench.errors import InputFileError, SparsettError
from sparsett_bench.naming import NameMatcher
from sparsett_bench.parse_cache import cached_parse, file_stamp

_RUN_FILE = re.compile(r"^(?P<seq>.+)_(?P<run>\d{3})\.txt$")
_RUN_FOLDER = re.compile(r"^(?P<param>.+)_(?P<run>\d{3})$")
TIME_SUFFIX = "_time.txt"
_RESULT_SUFFIXES = (".txt", ".json")  # other files (plots, configs) are ignored
RUN_RECORD = "run.json"  # what `sparsett-bench run` records beside its results; not a sequence


def default_results_folder(dataset: str, split: str | None) -> Path:
    """``results/<dataset>`` for the benchmark's own split, ``results/<dataset>-<split>`` for
    another (a tracker's folder holds one split: GOT-10k's val and test runs stay apart)."""
    from sparsett_bench.datasets.loaders import DEFAULT_SPLIT

    if split is None or split.lower() == DEFAULT_SPLIT.get(dataset, "test"):
        return Path("results") / dataset
    return Path("results") / f"{dataset}-{split.lower()}"


@dataclass
class SequenceResult:
    """Boxes of one sequence: one ``(N, 4)`` array per run, and per-frame seconds if known."""

    runs: list[np.ndarray]
    sources: list[str]
    times: np.ndarray | None = None

    @property
    def boxes(self) -> np.ndarray:
        return self.runs[0]


@dataclass
class TrackerResults:
    tracker: str
    location: str
    layout: str
    sequences: dict[str, SequenceResult] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)  # names that denote no sequence
    # [sequence, name used, name ignored]: two files (or folders) of one sequence, such as
    # Jogging-1.txt beside Jogging_1.txt; the closer spelling is scored.
    duplicates: list[list[str]] = field(default_factory=list)


class _Tree:
    """A folder or a zip seen as ``{relative posix path: loader}``, read lazily."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self.files: dict[str, object] = {}
        if location.is_file():
            if not zipfile.is_zipfile(location):
                with location.open("rb") as handle:
                    damaged = handle.read(4) == b"PK\x03\x04"  # a zip cut short
                raise InputFileError(
                    location,
                    "a damaged zip (its central directory is missing: cut short?)"
                    if damaged
                    else "expected a results folder or a zip of results",
                )
            try:
                self._zip = zipfile.ZipFile(location)
            except zipfile.BadZipFile as exc:  # its directory damaged
                raise InputFileError(location, f"a damaged zip ({exc})") from None
            for info in self._zip.infolist():
                if (
                    not info.is_dir()
                    and "__MACOSX" not in info.filename
                    and PurePosixPath(info.filename).suffix.lower() in _RESULT_SUFFIXES
                ):
                    self.files[info.filename] = info
        else:
            self._zip = None
            for path in location.rglob("*"):
                if (
                    path.is_file()
                    and path.suffix.lower() in _RESULT_SUFFIXES
                    and path.name != RUN_RECORD
                ):
                    self.files[path.relative_to(location).as_posix()] = path

    def read(self, key: str) -> bytes:
        item = self.files[key]
        if self._zip is not None:
            try:
                return self._zip.read(item)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                raise InputFileError(self.name(key), f"damaged zip member ({exc})") from None
        return item.read_bytes()

    def name(self, key: str) -> str:
        return f"{self.location}:{key}" if self._zip is not None else str(self.files[key])

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def load_tracker_results(
    location: str | Path, expected: Iterable[str], tracker: str | None = None
) -> TrackerResults:
    """Read every sequence of ``expected`` found under ``location`` (a folder or a zip).

    Sequences that are not found are simply absent from the result; the protocol decides
    whether that is an error (``--strict``) or a failure (``--lenient``).
    """
    location = Path(location)
    if not location.exists():
        raise InputFileError(location, "results not found")
    expected = list(expected)
    tree = _Tree(location)
    try:
        return _load(tree, expected, tracker or location.stem)
    finally:
        tree.close()


def _load(tree: _Tree, expected: list[str], tracker: str) -> TrackerResults:
    keys = [k for k in tree.files if not k.endswith(TIME_SUFFIX)]
    prefix = _common_prefix(keys)
    rel = {k: k[len(prefix) :] for k in keys}
    matcher = NameMatcher(expected)

    got10k: dict[str, list[tuple[int, str]]] = {}
    for key, r in rel.items():
        parts = PurePosixPath(r).parts
        m = _RUN_FILE.match(parts[-1])
        if (
            len(parts) == 2
            and m
            and matcher.match(m["seq"])
            and matcher.match(parts[0]) == matcher.match(m["seq"])
        ):
            got10k.setdefault(parts[0], []).append((int(m["run"]), key))
    if got10k:
        return _load_got10k_layout(tree, got10k, matcher, tracker, prefix)

    groups: dict[str, dict[str, str]] = {}
    for key, r in sorted(rel.items()):
        parent, _, name = r.rpartition("/")
        if parent.split("/")[-1] == "times":
            continue
        files, stem = groups.setdefault(parent, {}), name.rsplit(".", 1)[0]
        if stem in files and matcher.match(stem):  # Couple.txt beside Couple.json
            raise InputFileError(
                tree.name(key),
                f"a second result file of one sequence, beside {tree.name(files[stem])}: "
                "keep one of the two",
            )
        files[stem] = key
    usable = {
        parent: files for parent, files in groups.items() if any(matcher.match(n) for n in files)
    }
    if not usable:
        return TrackerResults(tracker, str(tree.location), "empty", unmatched=sorted(rel.values()))
    if len(usable) == 1:
        ((parent, files),) = usable.items()
        layout = "pytracking" if parent else "flat"
        return _load_runs(tree, [(parent, files)], matcher, tracker, prefix, layout)
    runs = sorted(usable.items())
    params = {(_RUN_FOLDER.match(p.split("/")[-1]) or [None, p])[1] for p, _ in runs}
    if len(params) == 1 and all(_RUN_FOLDER.match(p.split("/")[-1]) for p, _ in runs):
        return _load_runs(tree, runs, matcher, tracker, prefix, "pytracking-runs")
    listing = ", ".join(p or "." for p, _ in runs)
    hint = "point --results at one of them"
    if all(parent for parent, _ in runs) and tree.location.is_dir():  # parameter folders
        hint = f"to score each as a tracker of its own, give --results {tree.location}"
    raise InputFileError(tree.location, f"several result sets found ({listing}); {hint}")


def _load_runs(
    tree: _Tree,
    runs: list[tuple[str, dict[str, str]]],
    matcher: NameMatcher,
    tracker: str,
    prefix: str,
    layout: str,
) -> TrackerResults:
    """Each ``(parent folder, {file stem: key})`` is one run of every sequence it holds."""
    out = TrackerResults(tracker, str(tree.location), layout)
    for parent, files in runs:
        assigned = matcher.assign(files)
        _record_unassigned(out, matcher, files, assigned)
        for seq, stem in assigned.items():
            key = files[stem]
            boxes = _parse(tree, key)
            entry = out.sequences.setdefault(seq, SequenceResult([], []))
            entry.runs.append(boxes)
            entry.sources.append(tree.name(key))
            if entry.times is None:
                base = prefix + (parent + "/" if parent else "")
                for candidate in (f"{base}{stem}{TIME_SUFFIX}", f"{base}times/{stem}{TIME_SUFFIX}"):
                    if candidate in tree.files:
                        entry.times = _parse_times(tree, candidate)
                        break
    return out


def _load_got10k_layout(
    tree: _Tree,
    folders: dict[str, list[tuple[int, str]]],
    matcher: NameMatcher,
    tracker: str,
    prefix: str,
) -> TrackerResults:
    """``folders``: sequence folder -> [(run number, key of <seq>_<run>.txt)]."""
    out = TrackerResults(tracker, str(tree.location), "got10k")
    assigned = matcher.assign(folders)
    for seq, folder in assigned.items():
        entry = SequenceResult([], [])
        for _, key in sorted(folders[folder]):
            entry.runs.append(_parse(tree, key))
            entry.sources.append(tree.name(key))
        time_key = f"{prefix}{folder}/{folder}{TIME_SUFFIX}"
        if time_key in tree.files:
            entry.times = _parse_times(tree, time_key)
        out.sequences[seq] = entry
    _record_unassigned(out, matcher, folders, assigned)
    return out


def _record_unassigned(
    out: TrackerResults, matcher: NameMatcher, found: Iterable[str], assigned: dict[str, str]
) -> None:
    """Sort the names ``assign`` left out into ``unmatched`` and ``duplicates``."""
    for name in sorted(set(found) - set(assigned.values())):
        target = matcher.match(name)
        if target is None and name not in out.unmatched:  # once, however many run folders
            out.unmatched.append(name)
        elif target is not None and [target, assigned[target], name] not in out.duplicates:
            out.duplicates.append([target, assigned[target], name])


def _parse(tree: _Tree, key: str) -> np.ndarray:
    item = tree.files[key]
    if isinstance(item, Path):
        return read_box_file(item)
    stamp = (*file_stamp(tree.location.stat()), item.CRC, item.file_size)
    return cached_parse(
        tree.location, key, stamp, lambda: parse_box_bytes(tree.read(key), tree.name(key))
    )


def _parse_times(tree: _Tree, key: str) -> np.ndarray:
    """Per-frame seconds; a GOT-10k file with one column per run keeps the first run's."""
    data = tree.read(key)
    first = data.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].replace(b",", b" ").split()
    values = parse_box_text(data, tree.name(key), columns=max(1, len(first)))
    return values[:, 0]


def _common_prefix(keys: list[str]) -> str:
    """The folder prefix shared by every key (a zip may wrap everything in one folder)."""
    if not keys:
        return ""
    parts = [PurePosixPath(k).parts[:-1] for k in keys]
    common = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return "".join(f"{p}/" for p in common)


def write_sequence_result(
    tracker_dir: str | Path, sequence: str, boxes: np.ndarray, times: np.ndarray | None = None
) -> Path:
    """Write ``<seq>.txt`` (and ``<seq>_time.txt`` first), each atomically.

    The box file is written last: its presence is what marks a sequence as done.
    """
    tracker_dir = Path(tracker_dir)
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise SparsettError(f"{sequence}: boxes must have shape (N, 4), not {boxes.shape}")
    if times is not None:
        write_bytes_atomic(tracker_dir / f"{sequence}{TIME_SUFFIX}", format_rows(times))
    path = tracker_dir / f"{sequence}.txt"
    write_bytes_atomic(path, format_rows(boxes))
    return path
