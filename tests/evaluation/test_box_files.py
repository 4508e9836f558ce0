"""Box-file parsing: the forms found in the wild, exact errors, and fuzzing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparsett_bench.box_files import parse_box_text, parse_json_boxes, read_box_file
from sparsett_bench.errors import InputFileError


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"1,2,3,4\n5,6,7,8\n", [[1, 2, 3, 4], [5, 6, 7, 8]]),
        (b"1\t2\t3\t4\r\n5\t6\t7\t8\r\n\r\n\n", [[1, 2, 3, 4], [5, 6, 7, 8]]),
        (b"\xef\xbb\xbf1 2  3 4", [[1, 2, 3, 4]]),
        (b" 1.00,102.00,245.00,174.00\n", [[1, 102, 245, 174]]),  # TrackingNet devkit
        (b"+0.5,-1e2,3.25,4", [[0.5, -100, 3.25, 4]]),
        (b"1, 2,\t3;4", [[1, 2, 3, 4]]),
        (b"", np.zeros((0, 4))),
    ],
)
def test_accepted_forms(data: bytes, expected) -> None:
    assert np.array_equal(parse_box_text(data, "f"), np.asarray(expected, dtype=float))


def test_nan_rows_are_kept() -> None:
    boxes = parse_box_text(b"1,2,3,4\nNaN,NaN,NaN,NaN\nnan,nan,nan,nan\n", "f")
    assert boxes.shape == (3, 4) and np.isnan(boxes[1:]).all() and not np.isnan(boxes[0]).any()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"1,2,3,4\n\n5,6,7,8\n", "f:2: expected 4 values per row, found a blank line"),
        (b"1,2,3,4\n1,2,3\n", "f:2: expected 4 values per row, found 3 values"),
        (b"1,2,3,4,5\n", "f:1: expected 4 values per row, found 5 values"),
        (b"1,2,3,4\n1,2,3,4\n1,2,x3,4\n", "f:3: not a number: 'x3'"),
        (b"\n1,2,3,4\n", "f:1: expected 4 values per row, found a blank line"),
    ],
)
def test_errors_name_the_line(data: bytes, message: str) -> None:
    with pytest.raises(InputFileError) as error:
        parse_box_text(data, "f")
    assert str(error.value) == message


def test_json_results(tmp_path: Path) -> None:
    path = tmp_path / "bike1.json"
    path.write_text(json.dumps({"res": [[1, 2, 3, 4], [5.5, None, 7, 8]], "type": "rect"}))
    boxes = read_box_file(path)
    assert boxes[0].tolist() == [1, 2, 3, 4] and np.isnan(boxes[1, 1])
    path.write_text('{"res": [[1, 2, 3]]}')
    with pytest.raises(InputFileError, match=r"res\[0\]: expected a list of 4 numbers"):
        read_box_file(path)
    path.write_text('{"res": [[1, 2, 3, "4"]]}')
    with pytest.raises(InputFileError, match=r"res\[0\]\[3\]: not a number"):
        read_box_file(path)
    with pytest.raises(InputFileError, match="file not found"):
        read_box_file(tmp_path / "missing.txt")


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
separators = st.sampled_from([",", "\t", " ", ", ", ";"])
line_ends = st.sampled_from(["\n", "\r\n"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(finite, min_size=4, max_size=4), min_size=1, max_size=30),
    separators,
    line_ends,
    st.integers(0, 3),
)
def test_generated_files_parse_to_the_generated_values(rows, sep, end, trailing) -> None:
    text = end.join(sep.join(repr(v) for v in row) for row in rows) + end * trailing
    parsed = parse_box_text(text.encode(), "f")
    assert np.array_equal(parsed, np.array(rows, dtype=float))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_raise_the_projects_error(data: bytes) -> None:
    try:
        boxes = parse_box_text(data, "f")
    except InputFileError:
        return
    assert boxes.dtype == np.float64 and boxes.ndim == 2 and boxes.shape[1] == 4


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.integers(-999, 9999), min_size=4, max_size=4), min_size=1, max_size=10),
    st.integers(0, 10_000),
    st.binary(min_size=1, max_size=3),
)
def test_mutated_valid_files_parse_or_raise_the_projects_error(rows, position, junk) -> None:
    text = "\n".join(",".join(map(str, row)) for row in rows).encode()
    position %= len(text) + 1
    mutated = text[:position] + junk + text[position:]
    try:
        boxes = parse_box_text(mutated, "f")
    except InputFileError as error:
        assert error.line is None or error.line >= 1
        return
    assert boxes.shape[1] == 4


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_arbitrary_json_parses_or_raises_the_projects_error(data: bytes) -> None:
    try:
        boxes = parse_json_boxes(data, "f.json")
    except InputFileError:
        return
    assert boxes.shape[1] == 4


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
        max_leaves=20,
    )
)
def test_arbitrary_json_documents(document) -> None:
    data = json.dumps({"res": document}).encode()
    try:
        boxes = parse_json_boxes(data, "f.json")
    except InputFileError:
        return
    assert boxes.shape[1] == 4
