"""The parse cache serves a file only while it is unchanged, and survives damage."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from sparsett_bench import box_files, parse_cache
from sparsett_bench.box_files import read_box_file
from sparsett_bench.evaluation import results_io
from sparsett_bench.evaluation.results_io import load_tracker_results

TEXT = "".join(f"{i},{i + 0.25},30,40\n" for i in range(200))


@pytest.fixture
def counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Use a private cache and record every real parse."""
    monkeypatch.setenv("SPARSETT_CACHE_DIR", str(tmp_path / "cache"))
    parse_cache.forget()
    calls: list[str] = []
    original = box_files.parse_box_bytes

    def parse(data: bytes, source, columns: int = 4) -> np.ndarray:
        calls.append(str(source))
        return original(data, source, columns)

    monkeypatch.setattr(box_files, "parse_box_bytes", parse)
    monkeypatch.setattr(results_io, "parse_box_bytes", parse)
    yield calls
    parse_cache.forget()


def test_unchanged_file_is_parsed_once_even_across_processes(tmp_path: Path, counted) -> None:
    path = tmp_path / "Couple.txt"
    path.write_text(TEXT)
    first = read_box_file(path)
    second = read_box_file(path)
    assert len(counted) == 1 and np.array_equal(first, second)
    second[0, 0] = 99.0  # callers get their own copy
    assert read_box_file(path)[0, 0] == 0.0
    parse_cache.forget()  # as a new process would: only the index file on disk
    assert read_box_file(path)[3].tolist() == [3.0, 3.25, 30.0, 40.0]
    assert len(counted) == 1
    assert len(list((tmp_path / "cache" / "index").iterdir())) == 1


def test_an_edited_file_is_parsed_again(tmp_path: Path, counted) -> None:
    path = tmp_path / "Couple.txt"
    path.write_text(TEXT)
    read_box_file(path)
    stat = path.stat()
    path.write_text(TEXT.replace("0,0.25", "7,0.25", 1))  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # even with the old mtime
    assert read_box_file(path)[0, 0] == 7.0
    assert len(counted) == 2


def test_zip_members_are_keyed_by_their_crc(tmp_path: Path, counted) -> None:
    archive = tmp_path / "t.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("Couple.txt", TEXT)
    load_tracker_results(archive, ["Couple"])
    assert load_tracker_results(archive, ["Couple"]).sequences["Couple"].boxes.shape == (200, 4)
    assert len(counted) == 1


def test_a_damaged_index_is_ignored(tmp_path: Path, counted) -> None:
    path = tmp_path / "Couple.txt"
    path.write_text(TEXT)
    read_box_file(path)
    parse_cache.forget()
    (index,) = (tmp_path / "cache" / "index").iterdir()
    data = bytearray(index.read_bytes())
    data[-20] ^= 0xFF
    index.write_bytes(bytes(data))
    assert read_box_file(path)[1].tolist() == [1.0, 1.25, 30.0, 40.0]
    assert len(counted) == 2


def test_off_switch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARSETT_CACHE_DIR", "off")
    assert parse_cache.cache_root() is None
    path = tmp_path / "Couple.txt"
    path.write_text(TEXT)
    assert read_box_file(path).shape == (200, 4)
    parse_cache.flush()
    assert not (tmp_path / "index").exists()
