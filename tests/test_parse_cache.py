"""The parse cache serves only exactly the bytes it was filled from, and survives damage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sparsett_bench import parse_cache
from sparsett_bench.box_files import parse_box_text

TEXT = "".join(f"{i},{i + 0.25},30,40\n" for i in range(200)).encode()  # > MIN_BYTES


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SPARSETT_CACHE_DIR", str(tmp_path))
    return tmp_path / "parsed"


def entries(folder: Path) -> list[Path]:
    parse_cache.flush()
    return sorted(folder.rglob("*.f64")) if folder.exists() else []


def test_second_parse_comes_from_the_cache(cache: Path) -> None:
    calls = []

    def parse() -> np.ndarray:
        calls.append(1)
        return np.arange(8.0).reshape(2, 4)

    first = parse_cache.cached(TEXT, 4, parse)
    assert len(entries(cache)) == 1
    second = parse_cache.cached(TEXT, 4, parse)
    assert len(calls) == 1 and np.array_equal(first, second)
    second[0, 0] = 99.0  # served arrays are writable copies
    parse_cache.cached(TEXT + b"1,2,3,4\n", 4, parse)  # other bytes: another key
    parse_cache.cached(TEXT, 2, lambda: np.zeros((4, 2)))  # other column count: another key
    assert len(calls) == 2 and len(entries(cache)) == 3


def test_parsed_values_round_trip_exactly(cache: Path) -> None:
    cold = parse_box_text(TEXT, "f")
    assert len(entries(cache)) == 1
    warm = parse_box_text(TEXT, "f")
    assert warm.tobytes() == cold.tobytes() and warm[3].tolist() == [3.0, 3.25, 30.0, 40.0]


def test_a_damaged_entry_is_parsed_again(cache: Path) -> None:
    parse_box_text(TEXT, "f")
    (entry,) = entries(cache)
    data = bytearray(entry.read_bytes())
    data[10] ^= 0xFF
    entry.write_bytes(bytes(data))
    assert parse_box_text(TEXT, "f")[0].tolist() == [0.0, 0.25, 30.0, 40.0]
    entry.write_bytes(b"")
    assert parse_box_text(TEXT, "f").shape == (200, 4)


def test_small_files_and_off_switch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARSETT_CACHE_DIR", str(tmp_path))
    parse_box_text(b"1,2,3,4\n", "f")
    assert entries(tmp_path / "parsed") == []
    monkeypatch.setenv("SPARSETT_CACHE_DIR", "off")
    assert parse_cache.cache_dir() is None
    parse_box_text(TEXT, "f")
    assert entries(tmp_path / "parsed") == []
