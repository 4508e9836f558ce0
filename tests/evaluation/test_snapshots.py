"""What report reads is remembered per folder, and forgotten as soon as any file changes."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from sparsett_bench import parse_cache
from sparsett_bench.datasets.loaders import load_sequences
from sparsett_bench.datasets.sequence import Sequence
from sparsett_bench.evaluation import snapshots
from sparsett_bench.evaluation.results_io import load_tracker_results
from tests.conftest import shared_path


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARSETT_CACHE_DIR", str(tmp_path / "cache"))


def same_sequences(a, b) -> bool:
    """Every field that evaluation reads is equal (frames are not kept: evaluation only)."""
    scored = [f.name for f in dataclasses.fields(Sequence) if not f.name.startswith("_")]
    scored.remove("frame_paths_fn")
    return all(
        np.array_equal(getattr(x, f), getattr(y, f), equal_nan=True)
        if isinstance(getattr(x, f), np.ndarray)
        else getattr(x, f) == getattr(y, f)
        for x, y in zip(a, b, strict=True)
        for f in scored
    )


def test_annotations_round_trip_and_refresh_on_change(tmp_path: Path) -> None:
    root = tmp_path / "lasot"
    shutil.copytree(shared_path("annotations", "lasot_test"), root)
    fresh = load_sequences("lasot", root)
    assert same_sequences(snapshots.annotations("lasot", root, "test"), fresh)
    assert list((tmp_path / "cache" / "trees").iterdir())
    again = snapshots.annotations("lasot", root, "test")  # from the snapshot
    assert same_sequences(again, fresh)
    (root / "absent" / "airplane-1.txt").write_text("1\n" * len(fresh[0]))
    changed = snapshots.annotations("lasot", root, "test")
    assert changed[0].absent.all() and np.isnan(changed[0].boxes).all()


def test_otb_annotations_keep_tiger1s_omitted_frames(tmp_path: Path) -> None:
    root = shared_path("annotations", "otb100")
    for _ in range(2):  # built, then read back
        cached = {s.name: s for s in snapshots.annotations("otb2015", root, "test")}
        assert cached["Tiger1"].omitted_frames == 5
    assert same_sequences(list(cached.values()), load_sequences("otb2015", root))


def test_another_version_of_the_code_does_not_read_the_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = shared_path("annotations", "otb100")
    snapshots.annotations("otb2015", root, "test")
    monkeypatch.setattr(parse_cache, "code_stamp", lambda: "another version")
    snapshots.annotations("otb2015", root, "test")
    assert len(list((tmp_path / "cache" / "trees").iterdir())) == 2


def test_results_round_trip(tmp_path: Path) -> None:
    source = shared_path("raw_results", "got10k_test", "Ocean-online")
    names = [f"GOT-10k_Test_{i:06d}" for i in range(1, 181)]
    fresh = load_tracker_results(source, names, "Ocean-online")
    for _ in range(2):
        cached = snapshots.tracker_results(source, names, "Ocean-online")
        assert cached.layout == fresh.layout == "got10k"
        for name in names:
            assert np.array_equal(cached.sequences[name].boxes, fresh.sequences[name].boxes)
            assert np.array_equal(cached.sequences[name].times, fresh.sequences[name].times)
            assert cached.sequences[name].sources == fresh.sequences[name].sources


def test_a_damaged_snapshot_is_rebuilt(tmp_path: Path) -> None:
    root = shared_path("annotations", "uav123")
    fresh = snapshots.annotations("uav123", root, "test")
    (entry,) = (tmp_path / "cache" / "trees").iterdir()
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0xFF
    entry.write_bytes(bytes(data))
    assert same_sequences(snapshots.annotations("uav123", root, "test"), fresh)


def test_fingerprint_survives_a_symlink_cycle_and_sees_changes(tmp_path: Path) -> None:
    from sparsett_bench.parse_cache import tree_fingerprint

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("1,2,3,4\n")
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a")
    first = tree_fingerprint(tmp_path / "a")
    assert first is not None and first == tree_fingerprint(tmp_path / "a")
    (tmp_path / "a" / "x.txt").write_text("1,2,3,5\n")
    assert tree_fingerprint(tmp_path / "a") != first
