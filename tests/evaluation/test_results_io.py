"""Raw results in every layout in use are found, matched by name and read exactly."""

from __future__ import annotations

import re
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
GOT10K_TEST = [f"GOT-10k_Test_{i:06d}" for i in range(1, 181)]


@pytest.fixture(autouse=True)
def private_parse_cache(tmp_path_factory, monkeypatch) -> None:
    """Keep the parse cache out of the user's home folder."""
    monkeypatch.setenv("SPARSETT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def zip_of(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize(
    "text",
    [
        "1,2,30,40\n2.5,3.5,31,41\n",  # pysot / got10k toolkit
        "1\t2\t30\t40\n2.5\t3.5\t31\t41\n",
        "1 2 30 40\n2.5 3.5 31 41",  # space, no final newline
        "1.000,2.000,30.000,40.000\r\n2.500,3.500,31.000,41.000\r\n",  # OTB %.3f, CRLF
        "1,2,30,40\r\n2.5,3.5,31,41\r\n\r\n\n",  # trailing blank lines
        "\ufeff1,2,30,40\n+2.5,+3.5,31,41\n",
    ],
)
def test_flat_layout_forms(tmp_path: Path, text: str) -> None:
    write(tmp_path / "t" / "Couple.txt", text)
    results = load_tracker_results(tmp_path / "t", ["Couple", "Crossing"])
    assert results.layout == "flat" and list(results.sequences) == ["Couple"]
    assert results.sequences["Couple"].boxes.tolist() == BOXES.tolist()
    assert results.sequences["Couple"].times is None


def test_flat_layout_int_results(tmp_path: Path) -> None:
    write(tmp_path / "t" / "Couple.txt", "1,2,30,40\n-3,4,31,41\n")
    boxes = load_tracker_results(tmp_path / "t", ["Couple"]).sequences["Couple"].boxes
    assert boxes.dtype == np.float64 and boxes.tolist() == [[1, 2, 30, 40], [-3, 4, 31, 41]]


def test_times_beside_the_boxes_or_in_a_times_folder(tmp_path: Path) -> None:
    write(tmp_path / "t" / "Couple.txt", "1,2,30,40\n2.5,3.5,31,41\n")
    write(tmp_path / "t" / "Couple_time.txt", "0.5\n0.25\n")
    write(tmp_path / "t" / "Crossing.txt", "1 2 30 40\n2.5 3.5 31 41\n")
    write(tmp_path / "t" / "times" / "Crossing_time.txt", "0.10000000\r\n0.20000000\r\n")  # got10k
    results = load_tracker_results(tmp_path / "t", ["Couple", "Crossing", "Tiger1"])
    assert results.layout == "flat"
    assert results.sequences["Couple"].times.tolist() == [0.5, 0.25]
    assert results.sequences["Crossing"].times.tolist() == [0.1, 0.2]
    assert results.sequences["Crossing"].boxes.tolist() == BOXES.tolist()
    assert sorted(results.sequences) == ["Couple", "Crossing"]  # Tiger1 absent, not an error
    assert results.unmatched == []


def test_json_layout(tmp_path: Path) -> None:
    write(tmp_path / "t" / "bike1.json", '{"res": [[1, 2, 30, 40], [2.5, 3.5, 31, 41]]}')
    write(tmp_path / "t" / "bird1_1.json", '{"res": [[1, 2, 3, 4], [null, null, null, null]]}')
    results = load_tracker_results(tmp_path / "t", ["bike1", "bird1_1"])
    assert results.layout == "flat"
    assert results.sequences["bike1"].boxes.tolist() == BOXES.tolist()
    assert np.isnan(results.sequences["bird1_1"].boxes[1]).all()


def test_pytracking_parameter_folder(tmp_path: Path) -> None:
    write(tmp_path / "atom" / "default" / "Jogging_1.txt", "1\t2\t30\t40\n2\t3\t31\t41\n")
    write(tmp_path / "atom" / "default" / "Jogging_1_time.txt", "0.100000\n0.300000\n")
    results = load_tracker_results(tmp_path / "atom", ["Jogging-1", "Jogging-2"])
    assert results.tracker == "atom" and list(results.sequences) == ["Jogging-1"]
    entry = results.sequences["Jogging-1"]
    assert entry.sources == [str(tmp_path / "atom" / "default" / "Jogging_1.txt")]
    assert entry.boxes.tolist() == [[1, 2, 30, 40], [2, 3, 31, 41]]
    assert entry.times.tolist() == [0.1, 0.3]


def test_pytracking_repeated_runs(tmp_path: Path) -> None:
    for run in range(2):
        folder = tmp_path / "dimp" / f"dimp50_{run:03d}"
        write(folder / "Couple.txt", f"{run}\t2\t30\t40\n{run + 5}\t3\t31\t41\n")
        write(folder / "Couple_time.txt", f"0.{run + 1}\n0.0{run + 1}\n")
    write(tmp_path / "dimp" / "dimp50_000" / "Crossing.txt", "7\t7\t7\t7\n")
    runs = load_tracker_results(tmp_path / "dimp", ["Couple", "Crossing"], tracker="DiMP50")
    assert runs.layout == "pytracking-runs" and runs.tracker == "DiMP50"
    couple = runs.sequences["Couple"]
    assert [r[:, 0].tolist() for r in couple.runs] == [[0, 5], [1, 6]]
    assert [Path(s).parent.name for s in couple.sources] == ["dimp50_000", "dimp50_001"]
    assert couple.times.tolist() == [0.1, 0.01]  # the first run's
    assert len(runs.sequences["Crossing"].runs) == 1


def test_leftover_files_of_repeated_runs_are_named_once(tmp_path: Path) -> None:
    for run in range(2):
        folder = tmp_path / "dimp" / f"dimp50_{run:03d}"
        for name in ("Couple", "couple", "Coupel"):
            write(folder / f"{name}.txt", "1\t2\t30\t40\n")
    runs = load_tracker_results(tmp_path / "dimp", ["Couple"])
    assert runs.unmatched == ["Coupel"]
    assert runs.duplicates == [["Couple", "Couple", "couple"]]


def test_several_unrelated_result_sets_are_an_error(tmp_path: Path) -> None:
    write(tmp_path / "t" / "default" / "Couple.txt", "1,2,3,4\n")
    write(tmp_path / "t" / "other" / "Couple.txt", "1,2,3,4\n")
    with pytest.raises(
        InputFileError,
        match=r"several result sets found \(default, other\); to score each as a tracker of "
        rf"its own, give --results {re.escape(str(tmp_path / 't'))}",
    ):
        load_tracker_results(tmp_path / "t", ["Couple"])
    write(tmp_path / "u" / "Couple.txt", "1,2,3,4\n")  # flat files and a run folder
    write(tmp_path / "u" / "dimp_000" / "Couple.txt", "1,2,3,4\n")
    with pytest.raises(InputFileError, match=r"several result sets found \(\., dimp_000\)"):
        load_tracker_results(tmp_path / "u", ["Couple"])


def test_a_sequence_as_txt_and_as_json_is_an_error_naming_both(tmp_path: Path) -> None:
    """(Each sequence took whichever of the two the folder listed last: 51 SiamBAN and 49
    DaSiamRPN sequences scored as one tracker.)"""
    write(tmp_path / "t" / "Couple.txt", "1,2,3,4\n")
    write(tmp_path / "t" / "Couple.json", '{"res": [[1, 2, 3, 4]]}')
    write(tmp_path / "t" / "notes.txt", "not a sequence\n")
    write(tmp_path / "t" / "notes.json", "{}")
    with pytest.raises(
        InputFileError,
        match=rf"Couple.txt: a second result file of one sequence, beside "
        rf"{re.escape(str(tmp_path / 't' / 'Couple.json'))}: keep one",
    ):
        load_tracker_results(tmp_path / "t", ["Couple"])


def test_no_matching_file_gives_an_empty_result(tmp_path: Path) -> None:
    write(tmp_path / "t" / "notes.txt", "hello\n")
    results = load_tracker_results(tmp_path / "t", ["Couple"])
    assert results.layout == "empty" and results.sequences == {}
    assert results.unmatched == ["notes.txt"]


def got10k_members(names: list[str]) -> dict[str, str]:
    members = {}
    for name in names:
        for run in (1, 2, 3):
            members[f"{name}/{name}_{run:03d}.txt"] = f"{run},2,30,40\n{run},3,31,41\n"
        members[f"{name}/{name}_time.txt"] = "0.5,0.6,0.7\n0.1,0.2,0.3\n"  # column per run
    return members


def test_got10k_submission_folder_and_zip(tmp_path: Path) -> None:
    names = GOT10K_TEST[:2]
    for relative, text in got10k_members(names).items():
        write(tmp_path / "sub" / relative, text)
    folder = load_tracker_results(tmp_path / "sub", GOT10K_TEST)
    assert folder.layout == "got10k" and sorted(folder.sequences) == names
    entry = folder.sequences[names[1]]
    assert [run[:, 0].tolist() for run in entry.runs] == [[1, 1], [2, 2], [3, 3]]
    assert entry.runs[0][:, 1].tolist() == [2, 3]
    assert entry.times.tolist() == [0.5, 0.1]  # the first run's column
    for archive in (
        zip_of(tmp_path / "root.zip", got10k_members(names)),
        zip_of(
            tmp_path / "wrapped.zip", {f"Ocean/{k}": v for k, v in got10k_members(names).items()}
        ),
    ):
        zipped = load_tracker_results(archive, GOT10K_TEST)
        assert zipped.layout == "got10k" and sorted(zipped.sequences) == names
        for name in names:
            for mine, theirs in zip(
                zipped.sequences[name].runs, folder.sequences[name].runs, strict=True
            ):
                assert np.array_equal(mine, theirs)
            assert zipped.sequences[name].times.tolist() == [0.5, 0.1]


def test_trackingnet_flat_zip(tmp_path: Path) -> None:
    archive = zip_of(
        tmp_path / "subm.zip",
        {
            "-3TIfnTSM6c_2.txt": " 1.00,102.00,245.00,174.00\r\n 0.43,102.17,245.10,173.74\r\n",
            "a1qoB1eERn0_0.txt": "150.00,111.00,43.00,79.00\r\n",
            "readme.md": "not a result",
        },
    )
    results = load_tracker_results(archive, ["-3TIfnTSM6c_2", "a1qoB1eERn0_0", "a9jgDU5THOU_0"])
    assert results.layout == "flat" and results.tracker == "subm"
    assert results.sequences["-3TIfnTSM6c_2"].boxes.tolist() == [
        [1, 102, 245, 174],
        [0.43, 102.17, 245.10, 173.74],
    ]
    assert results.sequences["a1qoB1eERn0_0"].sources == [f"{archive}:a1qoB1eERn0_0.txt"]
    assert "a9jgDU5THOU_0" not in results.sequences


def test_zip_wrapping_everything_in_one_folder(tmp_path: Path) -> None:
    archive = zip_of(
        tmp_path / "mytracker.zip",
        {
            "mytracker/": "",
            "mytracker/Couple.txt": "1,2,30,40\n2.5,3.5,31,41\n",
            "mytracker/Couple_time.txt": "0.5\n0.25\n",
            "__MACOSX/mytracker/._Couple.txt": b"\x00\x05\x16\x07junk",
        },
    )
    results = load_tracker_results(archive, ["Couple"])
    assert results.layout == "flat" and results.tracker == "mytracker"
    assert results.sequences["Couple"].boxes.tolist() == BOXES.tolist()
    assert results.sequences["Couple"].times.tolist() == [0.5, 0.25]


def test_files_that_are_not_results_are_ignored_in_zips_as_in_folders(tmp_path: Path) -> None:
    members = {"t/Couple.txt": "1,2,30,40\n", "t/Couple.png": b"\x89PNG\r\n\x1a\n\x00"}
    members["t/config.yaml"] = "tracker: x\n"
    for relative, data in members.items():
        write(tmp_path / relative, data)
    for location in (tmp_path / "t", zip_of(tmp_path / "t.zip", members)):
        results = load_tracker_results(location, ["Couple"])
        assert results.sequences["Couple"].boxes.tolist() == [[1, 2, 30, 40]], location


def test_not_a_zip_and_missing_results_are_clear_errors(tmp_path: Path) -> None:
    write(tmp_path / "x.zip", b"not a zip")
    with pytest.raises(InputFileError, match="expected a results folder or a zip"):
        load_tracker_results(tmp_path / "x.zip", ["Couple"])
    with pytest.raises(InputFileError, match="results not found"):
        load_tracker_results(tmp_path / "nowhere", ["Couple"])


def test_a_tracker_both_as_folder_and_zip_is_one_tracker_read_from_the_folder(
    tmp_path: Path,
) -> None:
    from sparsett_bench.evaluation.report import discover_trackers, tracker_location

    write(tmp_path / "trk" / "Couple.txt", "1,2,3,4\n")
    zip_of(tmp_path / "trk.zip", {"Couple.txt": "1,2,3,4\n"})  # as run leaves a submission
    assert discover_trackers(tmp_path) == ["trk"]
    assert tracker_location(tmp_path, "trk") == tmp_path / "trk"


def test_a_malformed_result_file_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "t" / "Couple.txt", "1,2,3,4\n1,2,3\n")
    with pytest.raises(InputFileError) as error:
        load_tracker_results(tmp_path / "t", ["Couple"])
    assert (
        str(error.value)
        == f"{tmp_path / 't' / 'Couple.txt'}:2: expected 4 values per row, found 3 values"
    )
    archive = zip_of(tmp_path / "z.zip", {"Couple.txt": "1,2,3,4\nx,2,3,4\n"})
    with pytest.raises(InputFileError, match=re.escape(f"{archive}:Couple.txt:2: not a number")):
        load_tracker_results(archive, ["Couple"])


@pytest.mark.parametrize("found", ["Jogging_1", "jogging-1", "Jogging.1", "JOGGING-1"])
def test_otb_spellings(tmp_path: Path, found: str) -> None:
    write(tmp_path / "t" / f"{found}.txt", "1,2,3,4\n")
    write(tmp_path / "t" / "Human4.2.txt", "5,6,7,8\n")
    results = load_tracker_results(tmp_path / "t", ["Jogging-1", "Jogging-2", "Human4-2"])
    assert sorted(results.sequences) == ["Human4-2", "Jogging-1"]
    assert results.sequences["Jogging-1"].boxes.tolist() == [[1, 2, 3, 4]]
    assert results.sequences["Human4-2"].boxes.tolist() == [[5, 6, 7, 8]]


def test_uav_prefix_and_look_alike_names(tmp_path: Path) -> None:
    write(tmp_path / "t" / "uav_car1_1.txt", "1,2,3,4\n")
    write(tmp_path / "t" / "uav_car11.txt", "5,6,7,8\n")
    results = load_tracker_results(tmp_path / "t", ["car1_1", "car11"])
    assert results.sequences["car1_1"].boxes.tolist() == [[1, 2, 3, 4]]
    assert results.sequences["car11"].boxes.tolist() == [[5, 6, 7, 8]]
    only_other = load_tracker_results(tmp_path / "t", ["car1_1", "bike1"])
    assert list(only_other.sequences) == ["car1_1"]
    (tmp_path / "t" / "uav_car1_1.txt").unlink()
    assert load_tracker_results(tmp_path / "t", ["car1_1"]).sequences == {}  # car11 is not it


def test_exact_name_wins_over_a_loose_one(tmp_path: Path) -> None:
    write(tmp_path / "t" / "bike1.json", '{"res": [[1, 2, 3, 4]]}')
    write(tmp_path / "t" / "bike1_.json", '{"res": [[9, 9, 9, 9]]}')
    results = load_tracker_results(tmp_path / "t", ["bike1"])
    assert results.sequences["bike1"].boxes.tolist() == [[1, 2, 3, 4]]
    assert results.duplicates == [["bike1", "bike1", "bike1_"]]


floats = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(floats, min_size=4, max_size=80).map(lambda v: np.array(v[: len(v) // 4 * 4])),
    st.booleans(),
)
def test_written_results_read_back_bit_exactly(tmp_path_factory, values, nan_row) -> None:
    folder = tmp_path_factory.mktemp("w") / "tracker"
    boxes = values.reshape(-1, 4)
    if nan_row:
        boxes[0] = np.nan  # an absent-target row survives too
    times = np.abs(values[: len(boxes)])
    write_sequence_result(folder, "Couple", boxes, times)
    assert sorted(p.name for p in folder.iterdir()) == ["Couple.txt", "Couple_time.txt"]
    back = load_tracker_results(folder, ["Couple"]).sequences["Couple"]
    assert back.boxes.tobytes() == boxes.tobytes()
    assert back.times.tobytes() == times.tobytes()


def test_write_sequence_result_rejects_bad_shapes_and_replaces_old_files(tmp_path: Path) -> None:
    from sparsett_bench.errors import SparsettError

    with pytest.raises(
        SparsettError, match=r"Couple: boxes must have shape \(N, 4\), not \(2, 3\)"
    ):
        write_sequence_result(tmp_path, "Couple", np.zeros((2, 3)))
    assert list(tmp_path.iterdir()) == []
    write_sequence_result(tmp_path, "Couple", np.ones((3, 4)))
    path = write_sequence_result(tmp_path, "Couple", np.full((1, 4), 0.1))
    assert path == tmp_path / "Couple.txt"
    assert path.read_bytes() == b"0.1,0.1,0.1,0.1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["Couple.txt"]


# --- published raw results (../shared/data) --------------------------------------------------


def test_siamban_otb_files_map_to_the_100_otb_names() -> None:
    from sparsett_bench.datasets import otb2015

    folder = shared_path("raw_results", "otb100", "SiamBAN")
    results = load_tracker_results(folder, otb2015.NAMES)
    assert len(otb2015.NAMES) == 100 and results.layout == "flat"
    assert sorted(results.sequences) == sorted(otb2015.NAMES) and results.unmatched == []
    # the folder uses pysot's names, so every sequence must come from the file of its own name
    assert {n: Path(e.sources[0]).name for n, e in results.sequences.items()} == {
        n: f"{n}.txt" for n in otb2015.NAMES
    }
    assert results.sequences["Jogging-1"].boxes[0].tolist() == [111.5, 98.5, 25, 101]
    for name in ("Human4-2", "Skating2-1", "Tiger1"):
        lines = (folder / f"{name}.txt").read_bytes().strip().count(b"\n") + 1
        assert results.sequences[name].boxes.shape == (lines, 4)


def test_uav123_tld_folder_maps_all_123_tracks() -> None:
    from sparsett_bench.datasets import uav123

    folder = shared_path("raw_results", "uav123", "TLD")
    results = load_tracker_results(folder, uav123.NAMES)
    assert results.layout == "flat" and sorted(results.sequences) == sorted(uav123.NAMES)
    assert {n: Path(e.sources[0]).name for n, e in results.sequences.items()} == {
        n: f"{n}.json" for n in uav123.NAMES
    }
    # left over: the unsplit parents of the X_1, X_2 ... tracks, and the "<name>_" copies
    parents = {n.rsplit("_", 1)[0] for n in uav123.NAMES if re.fullmatch(r".+\d_\d+", n)}
    stems = {p.name[: -len(".json")] for p in folder.glob("*.json")}
    assert set(results.unmatched) == {s for s in stems if s.rstrip("_") in parents}
    assert sorted(ignored for _, _, ignored in results.duplicates) == sorted(
        s for s in stems if s.endswith("_") and s[:-1] in uav123.NAMES
    )  # the copies of scored tracks are named as such
    car = results.sequences["car1_1"].boxes[:2].tolist()
    assert car == [[623, 476, 69, 89], [623, 474, 69, 89]]  # car1_1.json, not car11.json


def test_ocean_online_got10k_submission_reads_180_sequences_with_times() -> None:
    folder = shared_path("raw_results", "got10k_test", "Ocean-online")
    results = load_tracker_results(folder, GOT10K_TEST)
    assert results.layout == "got10k" and sorted(results.sequences) == GOT10K_TEST
    for name, entry in results.sequences.items():
        rows = (folder / name / f"{name}_001.txt").read_bytes().strip().count(b"\n") + 1
        assert len(entry.runs) == 1 and entry.boxes.shape == (rows, 4), name
        assert entry.times is not None and entry.times.shape == (rows,), name
    first = results.sequences["GOT-10k_Test_000001"]
    assert first.boxes[0].tolist() == [395.0, 340.0, 532.0, 407.0]
    assert first.times[:3].tolist() == [9.575, 1.7834, 0.046617]


def test_two_files_of_one_sequence_are_both_named(tmp_path: Path) -> None:
    from sparsett_bench.datasets.sequence import Sequence
    from sparsett_bench.evaluation.evaluate import evaluate
    from sparsett_bench.evaluation.protocols import get_protocol

    write(tmp_path / "t" / "Jogging-1.txt", "1,2,30,40\n2.5,3.5,31,41\n")
    write(tmp_path / "t" / "Jogging_1.txt", "9,9,9,9\n9,9,9,9\n")
    results = load_tracker_results(tmp_path / "t", ["Jogging-1"])
    assert results.sequences["Jogging-1"].boxes.tolist() == BOXES.tolist()  # the exact name
    assert results.duplicates == [["Jogging-1", "Jogging-1", "Jogging_1"]]
    assert results.unmatched == []
    sequences = [Sequence("Jogging-1", BOXES, np.zeros(2, bool))]
    strict = evaluate(sequences, results, get_protocol("otb2015", "official"))  # a warning
    assert strict.issues == [
        "1 sequence(s) with two result files, the closer spelling scored (Jogging-1 over Jogging_1)"
    ]
    assert strict.scores()["auc"] == pytest.approx(20 / 21)  # both rows overlap exactly


def test_a_damaged_results_zip_is_named_with_its_member(tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "t.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("t/Couple.txt", "1,2,30,40\n" * 200)
    data = bytearray(archive.read_bytes())
    start = data.index(b"t/Couple.txt") + len("t/Couple.txt")  # the member's compressed bytes
    data[start + 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    with pytest.raises(InputFileError, match=r"t\.zip:t/Couple\.txt: damaged zip member"):
        load_tracker_results(archive, ["Couple"])
    directory = data.rfind(b"PK\x01\x02")  # the member's entry in the central directory
    broken = data[:directory] + b"\0\0\0\0" + data[directory + 4 :]
    archive.write_bytes(bytes(broken))
    with pytest.raises(InputFileError, match=r"t\.zip: a damaged zip \(Bad magic number"):
        load_tracker_results(archive, ["Couple"])
    archive.write_bytes(bytes(data[: len(data) // 2]))  # cut short: no central directory
    with pytest.raises(InputFileError, match=r"t\.zip: a damaged zip \(its central directory"):
        load_tracker_results(archive, ["Couple"])


def test_a_time_file_cut_short_is_left_out_of_the_speed(tmp_path: Path) -> None:
    from sparsett_bench.datasets.sequence import Sequence
    from sparsett_bench.evaluation.evaluate import evaluate
    from sparsett_bench.evaluation.protocols import get_protocol

    for name, times in (("Couple", "0.5\n0.25\n"), ("Bolt", "0.01\n")):
        write(tmp_path / "t" / f"{name}.txt", "1,2,30,40\n2.5,3.5,31,41\n")
        write(tmp_path / "t" / f"{name}_time.txt", times)
    results = load_tracker_results(tmp_path / "t", ["Couple", "Bolt"])
    sequences = [Sequence(n, BOXES, np.zeros(2, bool)) for n in ("Couple", "Bolt")]
    scored = evaluate(sequences, results, get_protocol("otb2015", "official"))
    assert scored.speed()["fps"] == pytest.approx(2 / 0.75)  # Couple's two frames only
    assert scored.issues == [
        "1 time file(s) not one time per box, left out of the speed: Bolt (1 for 2 boxes)"
    ]
