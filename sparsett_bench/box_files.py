"""Parse box files as they exist in the wild into float64 ``(N, 4)`` arrays.

Accepted: comma, tab, semicolon or whitespace separators (mixed too), ints or floats, a
leading ``+``, ``NaN``/``nan`` rows, CRLF line ends, a UTF-8 BOM, blank trailing lines, and
JSON files ``{"res": [[x, y, w, h], ...]}`` (the UAV/OTB MATLAB toolkit export). Anything
else -- a blank line before the end, a row that does not have exactly the expected number of
columns, a value that is not a number -- raises `InputFileError` naming the file and line.

The fast path is numpy's C ``loadtxt`` on the bytes with every separator turned into a space;
only a file that fails it is re-read line by line in Python to name the first offending line.
Files read from disk go through `parse_cache`, so an unchanged file is parsed only once.
"""

from __future__ import annotations

import io
import json
import math
import re
import warnings
from pathlib import Path

import numpy as np

from sparsett_bench.errors import InputFileError
from sparsett_bench.parse_cache import cached_parse, file_stamp

_SEPARATORS = b",\t; \r\x0b\x0c"
_SEPARATOR_TABLE = bytes.maketrans(_SEPARATORS, b" " * len(_SEPARATORS))
_BLANK_LINE = re.compile(rb"\n *\n")  # a literal first byte keeps the scan fast
# After separator normalization a valid file holds only these bytes. numpy's parser also
# treats non-ASCII and control whitespace (\xa0, \x1c-\x1f, \x85) as separators and skips
# lines made of them, so such files must take the slow path, which rejects them.
_PLAIN_BYTES = bytes(range(0x20, 0x7F)) + b"\n"


def read_box_file(path: str | Path, columns: int = 4) -> np.ndarray:
    """Read a text or JSON box file (see the module docstring), through the parse cache."""
    path = Path(path)
    try:
        stamp = file_stamp(path.stat())
    except FileNotFoundError:
        raise InputFileError(path, "file not found") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror or exc}") from None
    return cached_parse(
        path.parent,
        f"{path.name}:{columns}",
        stamp,
        lambda: parse_box_bytes(_read(path), path, columns),
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputFileError(path, f"cannot read: {exc.strerror or exc}") from None


def parse_box_bytes(data: bytes, source: str | Path, columns: int = 4) -> np.ndarray:
    """Text or JSON (by ``source``'s suffix) without any cache."""
    if str(source).lower().endswith(".json"):
        return parse_json_boxes(data, source, columns)
    return parse_box_text(data, source, columns)


def parse_box_text(data: bytes, source: str | Path, columns: int = 4) -> np.ndarray:
    """Parse delimited numbers, one row per line; ``source`` only names the input in errors."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    normalized = data.translate(_SEPARATOR_TABLE).rstrip(b" \n")
    if not normalized:
        return np.zeros((0, columns), dtype=np.float64)
    if (
        normalized.lstrip(b" ").startswith(b"\n")
        or b"\n\n" in normalized
        or (b"\n " in normalized and _BLANK_LINE.search(normalized))
        or normalized.translate(None, _PLAIN_BYTES)
    ):
        _raise_first_bad_line(normalized, source, columns)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            values = np.loadtxt(io.BytesIO(normalized), dtype=np.float64, ndmin=2, comments=None)
    except (ValueError, UserWarning):
        values = None
    if values is None or values.shape[1] != columns:
        _raise_first_bad_line(normalized, source, columns)
    return values


def _raise_first_bad_line(normalized: bytes, source: str | Path, columns: int) -> None:
    """Slow path: name the first line that is blank, has the wrong width or a non-number."""
    for number, line in enumerate(normalized.split(b"\n"), start=1):
        tokens = line.split()
        if len(tokens) != columns:
            found = "a blank line" if not tokens else f"{len(tokens)} values"
            raise InputFileError(
                source, f"expected {columns} values per row, found {found}", number
            )
        for token in tokens:
            try:
                if b"_" in token:  # float() accepts "1_000", numpy's parser does not
                    raise ValueError
                float(token.decode("ascii"))
            except (ValueError, UnicodeDecodeError):
                shown = token.decode("ascii", errors="replace")[:40]
                raise InputFileError(source, f"not a number: {shown!r}", number) from None
    raise InputFileError(source, "could not be parsed as numbers")


def parse_json_boxes(data: bytes, source: str | Path, columns: int = 4) -> np.ndarray:
    """Parse ``{"res": [[x, y, w, h], ...]}``; ``null`` entries become NaN."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # ValueError: JSONDecodeError, and also an integer over Python's 4300-digit limit;
        # RecursionError: nesting deeper than the decoder's recursion limit.
        line = getattr(exc, "lineno", None)
        raise InputFileError(source, f"invalid JSON: {exc}", line) from None
    rows = document.get("res") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        raise InputFileError(source, 'expected a JSON object with a "res" list of boxes')
    out = np.empty((len(rows), columns), dtype=np.float64)
    for index, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != columns:
            raise InputFileError(source, f"res[{index}]: expected a list of {columns} numbers")
        for col, value in enumerate(row):
            if value is None:
                out[index, col] = math.nan
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                try:
                    out[index, col] = value
                except OverflowError:  # an integer literal beyond float64's range
                    raise InputFileError(
                        source, f"res[{index}][{col}]: number out of the float64 range"
                    ) from None
            else:
                raise InputFileError(source, f"res[{index}][{col}]: not a number: {value!r}")
    return out


def format_rows(values: np.ndarray) -> bytes:
    """Comma-separated rows of shortest round-trip reprs, each line ending in ``\\n``."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    lines = (",".join(map(repr, row)) for row in values.tolist())
    return "".join(line + "\n" for line in lines).encode("ascii")
