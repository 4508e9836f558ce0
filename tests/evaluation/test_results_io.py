"""Raw results in every layout in use are found, matched by name and read exactly."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparsett_bench.errors import InputFileError
from sparsett_bench.evaluation.results_io import load_tracker_results, write_sequence_result
from tests.conftest import shared_path

BOXES = np.array([[1.0, 2.0, 30.0, 40.0], [2.5, 3.5, 31.0, 41.0]])


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_flat_layout_with_times_beside_or_in_times_folder(tmp_path: Path) -> None:
    write(tmp_path / "t" / "Couple.txt", "1,2,30,40\r\n2.5,3.5,31,41\r\n\r\n")
    write(tmp_path / "t" / "Couple_time.txt", "0.5\n0.25\n")
    write(tmp_path / "t" / "Crossing.txt", "1 2 30 40\n2.5 3.5 31 41\n")
    write(tmp_path / "t" / "times" / "Crossing_time.txt", "0.1\n0.2\n")
    results = load_tracker_results(tmp_path / "t", ["Couple", "Crossing", "Tiger1"])
    assert results.layout == "flat"
    assert np.array_equal(results.sequences["Couple"].boxes, BOXES)
    assert results.sequences["Couple"].times.tolist() == [0.5, 0.25]
    assert results.sequences["Crossing"].times.tolist() == [0.1, 0.2]
    assert "Tiger1" not in results.sequences


def test_json_layout(tmp_path: Path) -> None:
    write(tmp_path / "t" / "bike1.json", '{"res": [[1, 2, 30, 40], [2.5, 3.5, 31, 41]]}')
    results = load_tracker_results(tmp_path / "t", ["bike1"])
    assert np.array_equal(results.sequences["bike1"].boxes, BOXES)


def test_pytracking_parameter_folder_and_repeated_runs(tmp_path: Path) -> None:
    write(tmp_path / "atom" / "default" / "Jogging_1.txt", "1\t2\t30\t40\n2\t3\t31\t41\n")
    write(tmp_path / "atom" / "default" / "Jogging_1_time.txt", "0.1\n0.3\n")
    results = load_tracker_results(tmp_path / "atom", ["Jogging-1"])
    assert results.sequences["Jogging-1"].sources[0].endswith("default/Jogging_1.txt")
    assert results.sequences["Jogging-1"].boxes.tolist() == [[1, 2, 30, 40], [2, 3, 31, 41]]
    assert results.sequences["Jogging-1"].times.tolist() == [0.1, 0.3]

    for run in range(3):
        write(tmp_path / "dimp" / f"dimp50_{run:03d}" / "Couple.txt", f"{run},2,30,40\n")
    runs = load_tracker_results(tmp_path / "dimp", ["Couple"])
    assert runs.layout == "pytracking-runs"
    assert [r[0, 0] for r in runs.sequences["Couple"].runs] == [0, 1, 2]


def test_several_unrelated_result_sets_are_an_error(tmp_path: Path) -> None:
    write(tmp_path / "t" / "default" / "Couple.txt", "1,2,3,4\n")
    write(tmp_path / "t" / "other" / "Couple.txt", "1,2,3,4\n")
    with pytest.raises(InputFileError, match=r"several result sets found \(default, other\)"):
        load_tracker_results(tmp_path / "t", ["Couple"])


def test_got10k_submission_folder_and_zip(tmp_path: Path) -> None:
    names = ["GOT-10k_Test_000001", "GOT-10k_Test_000002"]
    for name in names:
        for run in (1, 2, 3):
            write(
                tmp_path / "sub" / name / f"{name}_{run:03d}.txt", f"{run},2,30,40\n{run},3,31,41\n"
            )
        write(tmp_path / "sub" / name / f"{name}_time.txt", "0.5,0.6,0.7\n0.1,0.2,0.3\n")
    folder = load_tracker_results(tmp_path / "sub", names)
    assert folder.layout == "got10k"
    entry = folder.sequences[names[1]]
    assert [run[0, 0] for run in entry.runs] == [1, 2, 3]
    assert entry.times.tolist() == [0.5, 0.1]  # first run's column
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in (tmp_path / "sub").rglob("*.txt"):
            z.write(path, path.relative_to(tmp_path / "sub").as_posix())
    zipped = load_tracker_results(archive, names)
    assert zipped.layout == "got10k"
    assert np.array_equal(zipped.sequences[names[0]].runs[2], entry.runs[2])


def test_zip_wrapping_everything_in_one_folder(tmp_path: Path) -> None:
    archive = tmp_path / "mytracker.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("mytracker/Couple.txt", "1,2,30,40\n2.5,3.5,31,41\n")
        z.writestr("__MACOSX/mytracker/._Couple.txt", "junk")
    results = load_tracker_results(archive, ["Couple"])
    assert np.array_equal(results.sequences["Couple"].boxes, BOXES)
    assert results.tracker == "mytracker"


def test_not_a_zip_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(InputFileError, match="expected a results folder or a zip"):
        load_tracker_results(tmp_path / "x.zip", ["Couple"])
    with pytest.raises(InputFileError, match="results not found"):
        load_tracker_results(tmp_path / "nowhere", ["Couple"])


@pytest.mark.parametrize("found", ["Jogging_1", "jogging-1", "Jogging.1", "JOGGING-1"])
def test_otb_spellings(tmp_path: Path, found: str) -> None:
    write(tmp_path / "t" / f"{found}.txt", "1,2,3,4\n")
    assert list(load_tracker_results(tmp_path / "t", ["Jogging-1", "Jogging-2"]).sequences) == [
        "Jogging-1"
    ]


def test_uav_prefix_and_look_alike_names(tmp_path: Path) -> None:
    write(tmp_path / "t" / "uav_car1_1.txt", "1,2,3,4\n")
    write(tmp_path / "t" / "uav_car11.txt", "5,6,7,8\n")
    results = load_tracker_results(tmp_path / "t", ["car1_1", "car11"])
    assert results.sequences["car1_1"].boxes[0, 0] == 1
    assert results.sequences["car11"].boxes[0, 0] == 5


def test_exact_name_wins_over_a_loose_one(tmp_path: Path) -> None:
    write(tmp_path / "t" / "bike1.json", '{"res": [[1, 2, 3, 4]]}')
    write(tmp_path / "t" / "bike1_.json", '{"res": [[9, 9, 9, 9]]}')
    results = load_tracker_results(tmp_path / "t", ["bike1"])
    assert results.sequences["bike1"].boxes[0, 0] == 1
    assert results.unmatched == ["bike1_"]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(
            st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=4, max_size=4
        ),
        min_size=1,
        max_size=20,
    )
)
def test_written_results_read_back_bit_exactly(tmp_path_factory, rows) -> None:
    folder = tmp_path_factory.mktemp("w") / "tracker"
    boxes = np.array(rows)
    times = np.abs(boxes[:, 0])
    write_sequence_result(folder, "Couple", boxes, times)
    assert sorted(p.name for p in folder.iterdir()) == ["Couple.txt", "Couple_time.txt"]
    back = load_tracker_results(folder, ["Couple"]).sequences["Couple"]
    assert back.boxes.tobytes() == boxes.tobytes()
    assert back.times.tobytes() == times.tobytes()


def test_real_layouts_from_published_trackers() -> None:
    from sparsett_bench.datasets import otb2015, uav123

    siamban = load_tracker_results(shared_path("raw_results", "otb100", "SiamBAN"), otb2015.NAMES)
    assert len(siamban.sequences) == 100 and siamban.unmatched == []
    assert siamban.sequences["Human4-2"].sources[0].endswith("Human4-2.txt")
    tld = load_tracker_results(shared_path("raw_results", "uav123", "TLD"), uav123.NAMES)
    assert len(tld.sequences) == 123
    assert tld.sequences["bike1"].sources[0].endswith("bike1.json")
