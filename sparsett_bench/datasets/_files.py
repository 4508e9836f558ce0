"""Small file helpers shared by the dataset loaders."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import numpy as np

from sparsett_bench.box_files import parse_box_text
from sparsett_bench.errors import InputFileError, SparsettError
from sparsett_bench.naming import NameMatcher


def spec_rows(filename: str) -> list[dict[str, str]]:
    """Rows of a packaged CSV under ``datasets/specs`` (``#`` lines are comments)."""
    text = resources.files("sparsett_bench.datasets").joinpath("specs", filename).read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(lines))


def spec_lines(filename: str) -> list[str]:
    text = resources.files("sparsett_bench.datasets").joinpath("specs", filename).read_text()
    return [line.strip() for line in text.splitlines() if line.strip()]


def files_by_sequence(folder: Path, names: list[str], suffix: str = ".txt") -> dict[str, Path]:
    """Map expected sequence names to the files in ``folder`` that denote them (any spelling)."""
    if not folder.is_dir():
        return {}
    found = {p.name[: -len(suffix)]: p for p in folder.iterdir() if p.name.endswith(suffix)}
    return {seq: found[name] for seq, name in NameMatcher(names).assign(found).items()}


def numbered_frames(folder: Path) -> list[Path]:
    """The ``<number>.jpg`` frames of a folder in frame order; other files (a ``thumb.jpg``,
    macOS's ``._0.jpg``) are not frames."""
    return sorted((p for p in folder.glob("*.jpg") if p.stem.isdigit()), key=lambda p: int(p.stem))


def attribute_files(folder: Path, names: list[str]) -> dict[str, Path]:
    """`files_by_sequence` for an ``att/`` folder, which must cover every sequence when it is
    there: one missing file would drop its sequence from every attribute's table unnoticed."""
    found = files_by_sequence(folder, names)
    missing = [name for name in names if name not in found]
    if found and missing:
        raise InputFileError(
            folder, f"no attribute file for {len(missing)} of {len(names)} sequences (first: "
            f"{', '.join(missing[:5])}); complete the folder, or move it away to score "
            "without attributes"
        )  # fmt: skip
    return found


def read_flags(path: Path) -> np.ndarray:
    """0/1 (or small integer) flags in any layout -- one per line, or one comma-separated line
    -- as a flat float vector. Single-digit files, the common case, skip the number parser."""
    try:
        data = path.read_bytes()
    except OSError:
        raise InputFileError(path, "file not found or unreadable") from None
    digits = data.translate(None, b", \t\r\n")
    if digits.isdigit() and len(digits) == len(data.replace(b",", b" ").split()):
        return np.frombuffer(digits, dtype=np.uint8).astype(np.float64) - 48.0
    if b"," not in data.strip():  # one flag per line: parsed by line, so errors name theirs
        return parse_box_text(data, path, columns=1).reshape(-1)
    flat = data.replace(b"\r", b"").replace(b"\n", b",").strip(b",")
    return parse_box_text(flat, path, columns=flat.count(b",") + 1 if flat else 0).reshape(-1)


def read_attribute_flags(path: Path, expected: int) -> np.ndarray:
    flags = read_flags(path)
    if flags.size != expected:
        raise InputFileError(path, f"expected {expected} attribute flags, found {flags.size}")
    return flags.astype(bool)


def require_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise InputFileError(path, f"missing {what}")
    return path


PARTIAL_ROOT_HINT = "run and report take a partial root with --sequences naming what it holds"


def select(all_names: list[str], wanted: list[str] | None) -> list[str]:
    """``wanted`` mapped onto the benchmark's names (any spelling), in benchmark order."""
    if wanted is None:
        return list(all_names)
    matcher = NameMatcher(all_names)
    chosen = {}
    for name in wanted:
        match = matcher.match(name)
        if match is None:
            raise SparsettError(f"unknown sequence {name!r}")
        chosen[match] = True
    return [n for n in all_names if n in chosen]
