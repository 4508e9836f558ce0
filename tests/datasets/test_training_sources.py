"""ILSVRC VID/DET and COCO read from their real layouts (tiny fixtures made here)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sparsett_bench.datasets.training_sources import load_coco, load_det, load_vid
from sparsett_bench.errors import InputFileError


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARSETT_CACHE_DIR", str(tmp_path / "cache"))


def xml(path: Path, objects: list[tuple[str, tuple[int, int, int, int]]], tag: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(
        f"<object><{tag}>{key}</{tag}><bndbox><xmax>{x2}</xmax><xmin>{x1}</xmin>"
        f"<ymax>{y2}</ymax><ymin>{y1}</ymin></bndbox></object>"
        for key, (x1, y1, x2, y2) in objects
    )
    path.write_text(
        f"<annotation><size><width>640</width><height>360</height></size>{body}</annotation>"
    )


def test_vid_tracks_span_their_video_with_nan_where_unannotated(tmp_path: Path) -> None:
    root = tmp_path / "ILSVRC2015"
    video = root / "Annotations" / "VID" / "train" / "ILSVRC2015_VID_train_0000" / "v0"
    xml(video / "000000.xml", [("0", (10, 20, 50, 80)), ("1", (100, 100, 120, 130))], "trackid")
    xml(video / "000001.xml", [("0", (12, 20, 52, 80))], "trackid")
    xml(video / "000002.xml", [("1", (101, 100, 121, 130))], "trackid")
    xml(
        root / "Annotations" / "VID" / "val" / "v9" / "000000.xml", [("0", (1, 2, 3, 4))], "trackid"
    )
    sequences = {s.name: s for s in load_vid(root)}
    assert sorted(sequences) == [
        "ILSVRC2015_VID_train_0000_v0_0",
        "ILSVRC2015_VID_train_0000_v0_1",
        "v9_0",
    ]
    track = sequences["ILSVRC2015_VID_train_0000_v0_0"]
    assert track.boxes[0].tolist() == [10, 20, 40, 60]  # xmin, ymin, xmax - xmin, ymax - ymin
    assert track.absent.tolist() == [False, False, True]
    assert track.image_size == (640, 360)
    assert track.frame_paths[2] == (
        root / "Data" / "VID" / "train" / "ILSVRC2015_VID_train_0000" / "v0" / "000002.JPEG"
    )
    assert len(load_vid(root)) == 3  # the second call is served by the index


def test_det_objects_are_single_frames(tmp_path: Path) -> None:
    root = tmp_path / "ILSVRC2015"
    xml(
        root / "Annotations" / "DET" / "train" / "a" / "img1.xml",
        [("n01", (0, 0, 10, 20)), ("n02", (5, 5, 15, 15))],
        "name",
    )
    xml(root / "Annotations" / "DET" / "train" / "a" / "empty.xml", [], "name")
    sequences = load_det(root)
    assert [s.name for s in sequences] == ["a/img1_0", "a/img1_1"]
    assert sequences[1].boxes.tolist() == [[5, 5, 10, 10]]
    assert sequences[0].frame_paths == [root / "Data" / "DET" / "train" / "a" / "img1.JPEG"]


def test_broken_xml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "I" / "Annotations" / "DET" / "train" / "bad.xml"
    path.parent.mkdir(parents=True)
    path.write_text("<annotation><size>")
    with pytest.raises(InputFileError, match=r"bad\.xml: unreadable annotation XML"):
        load_det(tmp_path / "I")


def test_coco_objects_skip_crowds(tmp_path: Path) -> None:
    annotations = tmp_path / "coco" / "annotations"
    annotations.mkdir(parents=True)
    (annotations / "instances_train2017.json").write_text(
        json.dumps(
            {
                "images": [{"id": 7, "file_name": "000000000007.jpg", "width": 640, "height": 480}],
                "annotations": [
                    {"id": 1, "image_id": 7, "bbox": [1.5, 2.0, 30.0, 40.0], "iscrowd": 0},
                    {"id": 2, "image_id": 7, "bbox": [0, 0, 300, 300], "iscrowd": 1},
                ],
            }
        )
    )
    (sequence,) = load_coco(tmp_path / "coco")
    assert sequence.name == "000000000007_1"
    assert np.array_equal(sequence.boxes, [[1.5, 2.0, 30.0, 40.0]])
    assert sequence.frame_paths == [tmp_path / "coco" / "train2017" / "000000000007.jpg"]
    (annotations / "instances_train2017.json").write_text('{"images": []}')
    with pytest.raises(InputFileError, match="not a COCO instances file"):
        load_coco(tmp_path / "coco")
