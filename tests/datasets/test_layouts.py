"""Each benchmark's real on-disk layout (built here, a few frames each) loads and is scored;
missing or corrupt files give errors that name the file."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from sparsett_bench.datasets import otb2015, uav123
from sparsett_bench.datasets.loaders import load_sequences
from sparsett_bench.errors import InputFileError
from sparsett_bench.evaluation.evaluate import evaluate
from sparsett_bench.evaluation.protocols import get_protocol
from sparsett_bench.evaluation.results_io import SequenceResult, TrackerResults


def write_rows(path: Path, rows: np.ndarray, sep: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(sep.join(f"{v:g}" for v in row) + "\n" for row in rows))


def box_rows(count: int, start: float = 10.0) -> np.ndarray:
    return np.array([[start + i, 20.0, 30.0, 40.0] for i in range(count)])


def test_otb2015_dataset_layout_applies_the_matlab_ranges(tmp_path: Path) -> None:
    for name, spec in otb2015.SPECS.items():
        rows = int(spec["end"]) - int(spec["start"]) + 1
        sep = "\t" if name.startswith("B") else ","
        write_rows(tmp_path / spec["folder"] / spec["gt_file"], box_rows(rows), sep)
    sequences = {s.name: s for s in load_sequences("otb2015", tmp_path)}
    assert len(sequences) == 100
    tiger = sequences["Tiger1"]
    assert len(tiger) == 349 and tiger.boxes[0, 0] == 15.0  # rows 6.. of 354 (initOmit 5)
    assert tiger.frame_paths[0].name == "0006.jpg"
    assert sequences["David"].frame_paths[0].name == "0300.jpg"
    assert sequences["Board"].frame_paths[0].name == "00001.jpg"
    assert sequences["Jogging-2"].frame_paths[0].parent == tmp_path / "Jogging" / "img"


def test_otb2015_partial_root_needs_explicit_sequences(tmp_path: Path) -> None:
    for name, spec in otb2015.SPECS.items():
        if name != "Couple":
            rows = int(spec["end"]) - int(spec["start"]) + 1
            write_rows(tmp_path / spec["folder"] / spec["gt_file"], box_rows(rows))
    with pytest.raises(InputFileError, match=r"holds 99 of 100 sequences \(missing: Couple\)"):
        load_sequences("otb2015", tmp_path)
    with pytest.raises(InputFileError, match=r"Couple/groundtruth_rect.txt: file not found"):
        load_sequences("otb2015", tmp_path, names=["couple"])
    assert [s.name for s in load_sequences("otb2015", tmp_path, names=["tiger1"])] == ["Tiger1"]


def test_the_four_real_otb_sequences_with_their_images() -> None:
    from tests.conftest import shared_path

    root = shared_path("sequences", "otb")
    names = ["Basketball", "Couple", "Crossing", "Football1"]
    sequences = load_sequences("otb2015", root, names=[n.lower() for n in names])
    assert [s.name for s in sequences] == names
    assert [len(s) for s in sequences] == [725, 140, 120, 74]  # Football1: frames 1-74 of 81
    assert all(p.is_file() for s in sequences for p in s.frame_paths)
    assert sequences[0].frame_size() == (576, 432)
    assert sequences[1].attributes == ("OPR", "SV", "DEF", "FM", "BC")  # its attrs.txt


def test_uav123_dataset_layout_with_nan_rows_and_attributes(tmp_path: Path) -> None:
    anno = tmp_path / "anno" / "UAV123"
    for name, spec in uav123.SPECS.items():
        rows = box_rows(int(spec["end"]) - int(spec["start"]) + 1)
        if name == "bird1_2":
            rows[3] = np.nan
        write_rows(anno / f"{name}.txt", rows)
    (anno / "att").mkdir()
    for name in uav123.SPECS:
        (anno / "att" / f"{name}.txt").write_text("0,0,0,0,0,0,0,0,0,0,0,0\n")
    (anno / "att" / "bird1_2.txt").write_text("1,0,0,1,1,0,0,0,0,0,1,0\n")
    sequences = {s.name: s for s in load_sequences("uav123", tmp_path)}
    bird = sequences["bird1_2"]
    assert bird.absent.tolist()[:5] == [False, False, False, True, False]
    assert bird.attributes == ("SV", "FM", "FOC", "CM")
    assert bird.frame_paths[0] == tmp_path / "data_seq" / "UAV123" / "bird1" / "000775.jpg"
    (anno / "att" / "car1_2.txt").unlink()  # would drop car1_2 from every attribute's table
    with pytest.raises(
        InputFileError, match=r"att: no attribute file for 1 of 123 sequences \(first: car1_2\)"
    ):
        load_sequences("uav123", tmp_path)


def test_uav123_wrong_length_names_file_and_range(tmp_path: Path) -> None:
    for name, spec in uav123.SPECS.items():
        count = int(spec["end"]) - int(spec["start"]) + 1 - (name == "car1_2")
        write_rows(tmp_path / f"{name}.txt", box_rows(count))
    with pytest.raises(InputFileError, match=r"car1_2.txt: expected 877 boxes \(frames 751-1627\)"):
        load_sequences("uav123", tmp_path)


def make_lasot(root: Path, names: list[str], frames: int = 5) -> None:
    for name in names:
        folder = root / name.split("-")[0] / name
        write_rows(folder / "groundtruth.txt", box_rows(frames))
        (folder / "full_occlusion.txt").write_text(",".join(["0", "0", "1", "0", "0"]) + "\n")
        (folder / "out_of_view.txt").write_text(",".join(["0", "0", "0", "1", "0"]) + "\n")
        (folder / "nlp.txt").write_text(f"the {name} in the sky\n")


def test_lasot_dataset_layout_absent_is_occlusion_or_out_of_view(tmp_path: Path) -> None:
    from sparsett_bench.datasets.lasot import TEST_NAMES

    make_lasot(tmp_path, [*TEST_NAMES, "airplane-2", "zebra-3"])
    test = load_sequences("lasot", tmp_path, "test")
    assert len(test) == 280
    assert test[0].absent.tolist() == [False, False, True, True, False]
    assert test[0].description == f"the {test[0].name} in the sky"
    assert test[0].frame_paths[-1].name == "00000005.jpg"
    train = load_sequences("lasot", tmp_path, "train")
    assert [s.name for s in train] == ["airplane-2", "zebra-3"]


def test_lasot_and_uav123_partial_roots_serve_the_sequences_asked_for(tmp_path: Path) -> None:
    from sparsett_bench.datasets.lasot import TEST_NAMES

    make_lasot(tmp_path / "lasot", list(TEST_NAMES[:2]))  # as a download by class leaves it
    with pytest.raises(InputFileError, match=r"278 LaSOT test sequences missing .* --sequences"):
        load_sequences("lasot", tmp_path / "lasot")
    chosen = load_sequences("lasot", tmp_path / "lasot", names=[TEST_NAMES[1].upper()])
    assert [s.name for s in chosen] == [TEST_NAMES[1]] and len(chosen[0]) == 5
    spec = uav123.SPECS["bike1"]
    write_rows(tmp_path / "uav" / "bike1.txt", box_rows(int(spec["end"]) - int(spec["start"]) + 1))
    with pytest.raises(InputFileError, match=r"for 122 of 123 UAV123 tracks .* --sequences"):
        load_sequences("uav123", tmp_path / "uav")
    assert [s.name for s in load_sequences("uav123", tmp_path / "uav", names=["bike1"])] == [
        "bike1"
    ]


def test_lasot_flag_length_mismatch_names_the_file(tmp_path: Path) -> None:
    from sparsett_bench.datasets.lasot import TEST_NAMES

    make_lasot(tmp_path, TEST_NAMES)
    bad = tmp_path / "airplane" / "airplane-1" / "out_of_view.txt"
    bad.write_text("0,0,0\n")
    with pytest.raises(InputFileError, match=r"airplane-1/out_of_view.txt: expected 5 flags"):
        load_sequences("lasot", tmp_path)


def make_got10k_val(root: Path) -> None:
    val = root / "val"
    specs = {"GOT-10k_Val_000001": (6, "(64, 48)"), "GOT-10k_Val_000002": (4, "(100, 80)")}
    (val).mkdir(parents=True)
    (val / "list.txt").write_text("\n".join(specs) + "\n")
    for name, (count, resolution) in specs.items():
        write_rows(val / name / "groundtruth.txt", box_rows(count))
        (val / name / "cover.label").write_text("\n".join(["8", "8", "0", "8", "4", "8"][:count]))
        (val / name / "absence.label").write_text("\n".join(["0", "0", "1", "0", "0", "0"][:count]))
        (val / name / "meta_info.ini").write_text(
            f"[METAINFO]\nurl: x\nresolution: {resolution}\nanno_fps: 10Hz\n"
        )


def test_got10k_val_layout_and_pooled_scores(tmp_path: Path) -> None:
    make_got10k_val(tmp_path)
    sequences = load_sequences("got10k", tmp_path, "val")
    assert [s.image_size for s in sequences] == [(64, 48), (100, 80)]
    assert sequences[0].cover.tolist() == [8, 8, 0, 8, 4, 8]
    assert sequences[0].absent.tolist() == [False, False, True, False, False, False]
    # A tracker exact on every frame but the last of the first sequence, where it is shifted by
    # 15 px; clipped to the 64x48 image both boxes are 30x28, so IoU = 15*28 / (45*28) = 1/3.
    first = sequences[0].boxes.copy()
    first[5, 0] += 15
    results = TrackerResults(
        "t",
        "memory",
        "flat",
        {
            sequences[0].name: SequenceResult([first], ["a"]),
            sequences[1].name: SequenceResult([sequences[1].boxes.copy()], ["b"]),
        },
    )
    scores = evaluate(sequences, results, get_protocol("got10k")).scores()
    # Scored frames (frame 1 and cover 0 excluded): seq 1 frames 2, 4, 5, 6; seq 2 frames 2, 4.
    # Pooled: (5 * 1 + 1/3) / 6; the mean of per-sequence AOs would be (3.33/4 + 1) / 2.
    assert scores["ao"] == pytest.approx((5 + 1 / 3) / 6, abs=1e-12)
    assert scores["sr50"] == pytest.approx(5 / 6)


def test_got10k_bad_resolution_names_file_and_line(tmp_path: Path) -> None:
    make_got10k_val(tmp_path)
    meta = tmp_path / "val" / "GOT-10k_Val_000002" / "meta_info.ini"
    meta.write_text("[METAINFO]\nresolution: wide\n")
    with pytest.raises(InputFileError, match=r"meta_info.ini:2: bad resolution 'wide'"):
        load_sequences("got10k", tmp_path, "val")


def test_trackingnet_chunks_and_zip(tmp_path: Path) -> None:
    for chunk, name in (("TRAIN_0", "a_0"), ("TRAIN_3", "b_1"), ("TEST", "c_2")):
        write_rows(tmp_path / chunk / "anno" / f"{name}.txt", box_rows(3))
        frames = tmp_path / chunk / "frames" / name
        frames.mkdir(parents=True)
        for k in (0, 1, 2, 10):
            (frames / f"{k}.jpg").write_bytes(b"")
    train = load_sequences("trackingnet", tmp_path, "train")
    assert [s.name for s in train] == ["a_0", "b_1"]
    assert [p.name for p in train[0].frame_paths] == ["0.jpg", "1.jpg", "2.jpg", "10.jpg"]
    assert [s.name for s in load_sequences("trackingnet", tmp_path, "test")] == ["c_2"]
    archive = tmp_path / "gt.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("x_0.txt", "1,2,3,4\n5,6,7,8\n")
    assert load_sequences("trackingnet", archive)[0].boxes.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]
    with zipfile.ZipFile(archive, "a") as z:  # as the macOS Finder zips a folder
        z.writestr("__MACOSX/._x_0.txt", b"\x00\x05\x16\x07 Mac OS X resource fork")
        z.writestr("._y_0.txt", b"\x00\x05\x16\x07")
    assert [s.name for s in load_sequences("trackingnet", archive)] == ["x_0"]
    with pytest.raises(InputFileError, match=r"gt\.zip: no TrackingNet train chunks here"):
        load_sequences("trackingnet", archive, "train")  # the devkit's zip is test annotations
    with pytest.raises(InputFileError, match=r"no TrackingNet TRAIN_5 chunk here"):
        load_sequences("trackingnet", tmp_path, "TRAIN_5")


def test_frames_are_the_numbered_jpgs_in_number_order(tmp_path: Path) -> None:
    from sparsett_bench.datasets._files import numbered_frames

    for name in ("00000010.jpg", "00000009.jpg", "thumb.jpg", "._00000001.jpg", "00000001.jpg"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in numbered_frames(tmp_path)] == [
        "00000001.jpg", "00000009.jpg", "00000010.jpg"
    ]  # fmt: skip


def test_status_counts_the_frames_of_a_folder_listed_split(tmp_path: Path) -> None:
    """GOT-10k's frames are listed from the folder: first and last present say nothing."""
    from sparsett_bench.datasets.status import _split_status

    make_got10k_val(tmp_path)
    for name, count in (("GOT-10k_Val_000001", 6), ("GOT-10k_Val_000002", 4)):
        for index in range(1, count + 1):
            (tmp_path / "val" / name / f"{index:08d}.jpg").write_bytes(b"")
    assert _split_status("got10k", tmp_path, "val", check_frames=True).problem is None
    (tmp_path / "val" / "GOT-10k_Val_000001" / "00000003.jpg").unlink()
    status = _split_status("got10k", tmp_path, "val", check_frames=True)
    assert status.problem == "GOT-10k_Val_000001: 5 frames for 6 boxes"


def test_got10k_list_errors_name_where_it_belongs(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"train/list\.txt: missing GOT-10k train sequence"):
        load_sequences("got10k", tmp_path, "train")
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "list.txt").write_bytes(b"\xff\xfeG\x00O\x00")  # UTF-16
    with pytest.raises(InputFileError, match="not a text list of sequence names"):
        load_sequences("got10k", tmp_path, "train")


def test_a_bad_flag_is_named_by_its_line(tmp_path: Path) -> None:
    from sparsett_bench.datasets._files import read_flags

    (tmp_path / "cover.label").write_text("8\n8\n0\nq\n8\n")
    with pytest.raises(InputFileError, match=r"cover\.label:4: not a number: 'q'"):
        read_flags(tmp_path / "cover.label")


def test_lasot_train_is_the_official_1120_and_status_names_the_missing(tmp_path: Path) -> None:
    from sparsett_bench.datasets.lasot import TEST_NAMES, TRAIN_NAMES
    from sparsett_bench.datasets.status import _split_status

    assert len(TRAIN_NAMES) == 1120  # 70 classes of 20, four of each in the test list
    assert not set(TRAIN_NAMES) & set(TEST_NAMES)
    make_lasot(tmp_path, [*TEST_NAMES, *TRAIN_NAMES[:2], "airplane-21"], frames=5)
    train = load_sequences("lasot", tmp_path, "train")
    assert [s.name for s in train] == ["airplane-2", "airplane-3"]  # not the stray airplane-21
    status = _split_status("lasot", tmp_path, "train", check_frames=False)
    assert status.problem == (
        "1118 of the 1120 training sequences not on disk "
        "(first: airplane-4, airplane-5, airplane-6, airplane-7, airplane-8)"
    )
    make_lasot(tmp_path, list(TRAIN_NAMES[2:]), frames=5)
    assert _split_status("lasot", tmp_path, "train", check_frames=False).problem is None


def test_trackingnet_status_names_missing_and_short_chunks(tmp_path: Path) -> None:
    from sparsett_bench.datasets.status import _split_status

    for chunk in ("TRAIN_0", "TRAIN_3"):
        write_rows(tmp_path / chunk / "anno" / "a.txt", box_rows(3))
    assert len(load_sequences("trackingnet", tmp_path, "train")) == 2  # trains on what is there
    status = _split_status("trackingnet", tmp_path, "train", check_frames=False)
    assert status.problem == (
        "10 chunk(s) not on disk: TRAIN_1, TRAIN_2, TRAIN_4, TRAIN_5, TRAIN_6, TRAIN_7, "
        "TRAIN_8, TRAIN_9, TRAIN_10, TRAIN_11 (<chunk>/anno)"
    )
    for k in range(12):
        write_rows(tmp_path / f"TRAIN_{k}" / "anno" / "a.txt", box_rows(3))
    status = _split_status("trackingnet", tmp_path, "train", check_frames=False)
    assert status.problem == "TRAIN_0: 1 annotation files, it has 2511 or more"
    assert _split_status("trackingnet", tmp_path, "TRAIN_5", check_frames=False).problem == (
        "TRAIN_5: 1 annotation files, it has 2511 or more"
    )
    loose = tmp_path / "loose"
    write_rows(loose / "a_0.txt", box_rows(3))  # a folder of annotations for local scoring
    assert _split_status("trackingnet", loose, "test", check_frames=False).problem is None
