"""Box-file parsing: the forms found in the wild, exact errors, and fuzzing.

The fuzz tests hold every parser to one contract: a float64 ``(N, 4)`` array or
`InputFileError`, never another exception. The differential test also checks *which* inputs
are accepted, against a small reference grammar written independently of the parser.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sparsett_bench.box_files import (
    format_rows,
    parse_box_bytes,
    parse_box_text,
    parse_json_boxes,
    read_box_file,
)
from sparsett_bench.errors import InputFileError

FAST = settings(max_examples=200, deadline=None)


@pytest.fixture(autouse=True, scope="module")
def private_parse_cache(tmp_path_factory):
    """Keep the parse cache of `read_box_file` out of the user's home folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPARSETT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"1,2,3,4\n5,6,7,8\n", [[1, 2, 3, 4], [5, 6, 7, 8]]),
        (b"1\t2\t3\t4\r\n5\t6\t7\t8\r\n\r\n\n", [[1, 2, 3, 4], [5, 6, 7, 8]]),
        (b"\xef\xbb\xbf1 2  3 4", [[1, 2, 3, 4]]),  # BOM, no final newline
        (b" 1.00,102.00,245.00,174.00\r\n", [[1, 102, 245, 174]]),  # TrackingNet devkit
        (b"+0.5,-1e2,3.25,4", [[0.5, -100, 3.25, 4]]),
        (b"+1,+1,-1,-1\n", [[1, 1, -1, -1]]),
        (b"1, 2,\t3;4\n5 ,6\t,7 ; 8", [[1, 2, 3, 4], [5, 6, 7, 8]]),  # mixed separators
        (b"1,2,3,4\n \t\n,,\n", [[1, 2, 3, 4]]),  # trailing lines of separators only
        (b".5,5.,1E3,1e-3\n", [[0.5, 5, 1000, 0.001]]),
        (b"", np.zeros((0, 4))),
        (b"\n\r\n  \n", np.zeros((0, 4))),
        (b"\xef\xbb\xbf", np.zeros((0, 4))),
    ],
)
def test_accepted_forms(data: bytes, expected) -> None:
    parsed = parse_box_text(data, "f")
    assert parsed.dtype == np.float64
    assert parsed.shape == np.shape(expected)
    assert np.array_equal(parsed, np.asarray(expected, dtype=float))


def test_nan_rows_are_kept() -> None:
    boxes = parse_box_text(b"1,2,3,4\nNaN,NaN,NaN,NaN\nnan,nan,nan,nan\r\n", "f")
    assert boxes.shape == (3, 4)
    assert boxes[0].tolist() == [1, 2, 3, 4]
    assert np.isnan(boxes[1:]).all()


def test_other_column_counts() -> None:
    assert parse_box_text(b"0.25\n0.5\n", "t", columns=1).tolist() == [[0.25], [0.5]]
    assert parse_box_text(b"1,2,3,4,5,6,7,8\n", "p", columns=8).shape == (1, 8)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"1,2,3,4\n\n5,6,7,8\n", "f:2: expected 4 values per row, found a blank line"),
        (b"1,2,3,4\r\n\r\n5,6,7,8\r\n", "f:2: expected 4 values per row, found a blank line"),
        (
            b"1,2,3,4\n1,2,3,4\n \t \n1,2,3,4\n",
            "f:3: expected 4 values per row, found a blank line",
        ),
        (b"\n1,2,3,4\n", "f:1: expected 4 values per row, found a blank line"),
        (b"1,2,3,4\n1,2,3\n", "f:2: expected 4 values per row, found 3 values"),
        (b"1,2,3,4,5\n", "f:1: expected 4 values per row, found 5 values"),
        (b"1,2,3,4\n1,2,3,4\n1,2,x3,4\n", "f:3: not a number: 'x3'"),
        (b"1,2,3,4\n1,2,3,4\r\n1,2,3,4\n1e,2,3,4\n", "f:4: not a number: '1e'"),
        (b"1_000,2,3,4\n", "f:1: not a number: '1_000'"),  # float() would take it
        (b"1,2,3,4\r5,6,7,8\r", "f:1: expected 4 values per row, found 8 values"),  # CR only
        (b"1,2,3,4\n\xa0\n5,6,7,8\n", "f:2: expected 4 values per row, found 1 values"),  # NBSP
        (b"\xa01,2,3,4\n", "f:1: not a number: '\ufffd1'"),
        (b"1,2,3,4\n1,2,3,4\x00\n", "f:2: not a number: '4\\x00'"),
    ],
)
def test_errors_name_the_line(data: bytes, message: str) -> None:
    with pytest.raises(InputFileError) as error:
        parse_box_text(data, "f")
    assert str(error.value) == message


def test_json_results(tmp_path: Path) -> None:
    path = tmp_path / "bike1.json"
    document = {"res": [[1, 2, 3, 4], [5.5, None, 7, 8]], "type": "rect"}
    path.write_text(json.dumps(document))
    boxes = read_box_file(path)
    assert boxes[0].tolist() == [1, 2, 3, 4]
    assert boxes[1, 0] == 5.5 and np.isnan(boxes[1, 1])
    assert parse_box_bytes(path.read_bytes(), "X.JSON").shape == (2, 4)  # suffix in any case


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"res": [[1, 2, 3]]}', r"res\[0\]: expected a list of 4 numbers"),
        (b'{"res": [[1, 2, 3, "4"]]}', r"res\[0\]\[3\]: not a number: '4'"),
        (b'{"res": [[1, 2, 3, true]]}', r"res\[0\]\[3\]: not a number: True"),
        (b'{"res": {"a": 1}}', 'expected a JSON object with a "res" list'),
        (b"[[1, 2, 3, 4]]", 'expected a JSON object with a "res" list'),
        (b'{"res": [[1, 2, 3, 4]]', "invalid JSON"),
        (b"\xff\xfe{}", "invalid JSON"),
        (b'{"res": [[1, 2, 3, 1' + b"0" * 400 + b"]]}", r"res\[0\]\[3\]: number out of the"),
        (b'{"res": [[1, 2, 3, 1' + b"0" * 5000 + b"]]}", "invalid JSON"),  # int digit limit
        (b'{"res": ' + b"[" * 100_000, "invalid JSON"),  # deeper than the recursion limit
    ],
    ids=lambda value: value[:30] if isinstance(value, bytes) else None,
)
def test_json_errors(data: bytes, message: str) -> None:
    with pytest.raises(InputFileError, match=message):
        parse_json_boxes(data, "f.json")


def test_read_box_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="file not found"):
        read_box_file(tmp_path / "missing.txt")
    (tmp_path / "folder.txt").mkdir()
    with pytest.raises(InputFileError, match="cannot read"):
        read_box_file(tmp_path / "folder.txt")


def test_format_rows_is_the_shortest_repr() -> None:
    rows = np.array([[1.0, 0.1, 1e-300, -0.0], [395.0, 1 / 3, 1e22, 2.5]])
    assert format_rows(rows) == (b"1.0,0.1,1e-300,-0.0\n395.0,0.3333333333333333,1e+22,2.5\n")
    assert format_rows(np.array([9.575, 0.046617])) == b"9.575\n0.046617\n"


# --- fuzzing ----------------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
number = finite.map(repr) | st.integers(-(10**6), 10**6).map(str)
separator = st.sampled_from([",", "\t", " ", ", ", ";", " \t", "  "])
line_end = st.sampled_from(["\n", "\r\n"])


@FAST
@given(
    st.lists(number, min_size=4, max_size=60).map(
        lambda v: [v[i : i + 4] for i in range(0, len(v) - 3, 4)]
    ),
    st.lists(separator, min_size=1, max_size=8),
    line_end,
    st.integers(0, 3),
    st.booleans(),
)
def test_generated_files_parse_to_the_generated_values(rows, seps, end, trailing, bom) -> None:
    gaps = itertools.cycle(seps)  # a different separator in each gap where seps allow
    lines = [row[0] + "".join(next(gaps) + value for value in row[1:]) for row in rows]
    text = ("\ufeff" if bom else "") + end.join(lines) + end * trailing
    parsed = parse_box_text(text.encode("utf-8"), "f")
    assert parsed.dtype == np.float64
    assert parsed.tobytes() == np.array([[float(v) for v in row] for row in rows]).tobytes()


_NUMBER = re.compile(rb"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.I)
_SEPARATORS = re.compile(rb"[,\t; \r\x0b\x0c]+")


def reference_parse(data: bytes) -> np.ndarray | None:
    """The documented grammar, written plainly: None where the file must be rejected."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = [_SEPARATORS.sub(b" ", line).strip(b" ") for line in data.split(b"\n")]
    while lines and not lines[-1]:
        lines.pop()
    rows = []
    for line in lines:
        tokens = line.split(b" ") if line else []
        if len(tokens) != 4 or not all(_NUMBER.fullmatch(t) for t in tokens):
            return None
        rows.append([float(t) for t in tokens])
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


pieces = st.sampled_from(
    [b"1", b"0", b"9", b".", b"e", b"+", b"-", b"nan", b"inf", b"_", b"x", b",", b"\t", b";",
     b" ", b"\r", b"\n", b"\x0b", b"\xa0", b"\x1c", b"\x00", b"\xef\xbb\xbf", b"1,2,3,4\n",
     b"1.5 -2 3e1 +4\r\n"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(pieces, max_size=40).map(b"".join))
def test_accepts_exactly_the_documented_grammar(data: bytes) -> None:
    expected = reference_parse(data)
    try:
        parsed = parse_box_text(data, "f")
    except InputFileError:
        assert expected is None, f"rejected a valid file: {data!r}"
        return
    assert expected is not None, f"accepted an invalid file: {data!r} -> {parsed.tolist()}"
    assert parsed.dtype == np.float64 and parsed.shape == expected.shape
    assert np.array_equal(parsed, expected, equal_nan=True)


def check_contract(parse, data: bytes) -> None:
    try:
        boxes = parse(data)
    except InputFileError as error:
        assert error.line is None or error.line >= 1
        return
    assert isinstance(boxes, np.ndarray) and boxes.dtype == np.float64
    assert boxes.ndim == 2 and boxes.shape[1] == 4


@FAST
@given(st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_raise_the_projects_error(data: bytes) -> None:
    check_contract(lambda d: parse_box_text(d, "f"), data)
    check_contract(lambda d: parse_json_boxes(d, "f.json"), data)


@FAST
@given(
    st.lists(st.lists(st.integers(-999, 9999), min_size=4, max_size=4), min_size=1, max_size=10),
    st.integers(0, 10_000),
    st.integers(0, 3),
    st.binary(min_size=1, max_size=3),
    st.booleans(),
)
def test_mutated_valid_files_parse_or_raise_the_projects_error(
    rows, position, cut, junk, as_json
) -> None:
    if as_json:
        text = json.dumps({"res": rows}).encode()
    else:
        text = "\n".join(",".join(map(str, row)) for row in rows).encode()
    position %= len(text) + 1
    mutated = text[:position] + junk + text[position + cut :]
    check_contract(lambda d: parse_box_text(d, "f"), mutated)
    check_contract(lambda d: parse_json_boxes(d, "f.json"), mutated)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(json_values | st.lists(st.lists(st.integers() | st.floats() | st.none(), max_size=5)))
def test_arbitrary_json_documents(document) -> None:
    check_contract(lambda d: parse_json_boxes(d, "f.json"), json.dumps({"res": document}).encode())
    check_contract(lambda d: parse_json_boxes(d, "f.json"), json.dumps(document).encode())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=200) | st.lists(pieces, max_size=30).map(b"".join),
    st.sampled_from([".txt", ".json", ".TXT"]),
)
def test_read_box_file_matches_the_uncached_parser(tmp_path_factory, data: bytes, suffix) -> None:
    """Through the parse cache (in a private folder) or not, a file reads as its bytes parse."""
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / f"seq{suffix}"
    path.write_bytes(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPARSETT_CACHE_DIR", str(folder / "cache"))
        try:
            expected = parse_box_bytes(data, path)
        except InputFileError as error:
            with pytest.raises(InputFileError) as again:
                read_box_file(path)
            assert str(again.value) == str(error)
            return
        for _ in range(2):  # parsed, then served from the cache
            boxes = read_box_file(path)
            assert boxes.dtype == np.float64 and boxes.shape == expected.shape
            assert np.array_equal(boxes, expected, equal_nan=True)
