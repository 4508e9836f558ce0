"""The loaders read the real benchmark annotations in ../shared/data (toolkit layout)."""

from __future__ import annotations

import numpy as np
import pytest

from sparsett_bench.datasets.loaders import load_sequences
from sparsett_bench.errors import InputFileError
from tests.conftest import shared_path


def test_otb2015_hundred_targets_with_official_ranges() -> None:
    sequences = {s.name: s for s in load_sequences("otb2015", shared_path("annotations", "otb100"))}
    assert len(sequences) == 100
    assert len(sequences["Tiger1"]) == 349  # frames 6-354 (initOmit 5)
    assert len(sequences["David"]) == 471  # frames 300-770
    assert len(sequences["Football1"]) == 74
    assert {"Jogging-1", "Jogging-2", "Skating2-1", "Skating2-2", "Human4-2"} <= set(sequences)
    assert sum(len(s) for s in sequences.values()) == 59035
    assert sequences["Basketball"].attributes == ("IV", "OPR", "OCC", "DEF", "BC")
    counts = {a: sum(a in s.attributes for s in sequences.values()) for a in ("OV", "LR", "SV")}
    assert counts == {"OV": 14, "LR": 9, "SV": 64}  # the OTB2015 attribute table


def test_uav123_tracks_cut_by_frame_ranges() -> None:
    sequences = {s.name: s for s in load_sequences("uav123", shared_path("annotations", "uav123"))}
    assert len(sequences) == 123
    assert len(sequences["bird1_2"]) == 1477 - 775 + 1
    assert len(sequences["car1_2"]) == 1627 - 751 + 1
    assert sum(len(s) for s in sequences.values()) == 112578
    absent = sequences["bird1_1"].absent
    assert np.array_equal(absent, np.isnan(sequences["bird1_1"].boxes).any(axis=1))
    assert sum(int(s.absent.sum()) for s in sequences.values()) > 0
    counts = [
        sum(a in s.attributes for s in sequences.values())
        for a in ("SV", "ARC", "LR", "FM", "FOC", "POC", "OV", "BC", "IV", "VC", "CM", "SOB")
    ]
    assert counts == [109, 68, 48, 28, 33, 73, 30, 21, 31, 60, 70, 39]  # the UAV123 paper's table


def test_lasot_test_split_with_absent_masks_and_attributes() -> None:
    sequences = load_sequences("lasot", shared_path("annotations", "lasot_test"))
    assert len(sequences) == 280
    assert sum(len(s) for s in sequences) == 685360
    assert sum(int(s.absent.sum()) for s in sequences) == 18346
    by_name = {s.name: s for s in sequences}
    assert by_name["airplane-1"].attributes == ("POC", "ROT", "SV", "LR")
    assert not any(s.absent[0] for s in sequences)
    plane = by_name["airplane-15"]
    assert (
        np.isnan(plane.boxes[plane.absent]).all() and not np.isnan(plane.boxes[~plane.absent]).any()
    )
    assert plane.file_boxes[plane.absent][0].tolist() == [0, 0, 0, 0]  # as the file has it


def test_trackingnet_zip_of_sequences() -> None:
    sequences = load_sequences("trackingnet", shared_path("trackingnet_devkit", "dummy_GT.zip"))
    assert len(sequences) == 9
    assert sequences[0].name == "-3TIfnTSM6c_2"


def test_another_benchmarks_annotations_are_named_as_not_this_root() -> None:
    uav = shared_path("annotations", "uav123")  # its att/ covers UAV123's tracks, not OTB's
    with pytest.raises(InputFileError, match=r"not an OTB2015 root: no ground truth for 98 of"):
        load_sequences("otb2015", uav)
    with pytest.raises(InputFileError, match=r"not a LaSOT root"):
        load_sequences("lasot", uav)
