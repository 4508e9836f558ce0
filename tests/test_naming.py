"""Sequence names are matched across the spellings toolkits use, never across sequences."""

from __future__ import annotations

import re

import pytest

from sparsett_bench.naming import NameMatcher, unified

OTB = ["Jogging-1", "Jogging-2", "Skating2-1", "Skating2-2", "Human4-2", "Human2", "Tiger1"]


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        ("Jogging-1", "Jogging-1"),  # pysot
        ("Jogging_1", "Jogging-1"),  # pytracking
        ("jogging-1", "Jogging-1"),  # OTB MATLAB annotation files
        ("Jogging.1", "Jogging-1"),  # got10k toolkit
        ("Jogging1", "Jogging-1"),  # TC128 style
        ("JOGGING 2", "Jogging-2"),
        ("Human4.2", "Human4-2"),
        ("human4_2", "Human4-2"),
        ("Human4", "Human4-2"),  # pytracking's otbdataset.py and got10k's OTB: the .2 GT file
        ("otb_human4", "Human4-2"),
        ("Skating2.1", "Skating2-1"),
        ("Skating2-2", "Skating2-2"),
        ("tiger1", "Tiger1"),
        ("otb_Tiger1", "Tiger1"),
        ("Human3", None),
        ("Jogging", None),
        ("Human42", None),  # digits joined without a separator are another sequence
        ("Skating21", None),
    ],
)
def test_otb_spellings(found: str, expected: str | None) -> None:
    assert NameMatcher(OTB).match(found) == expected


def test_uav_look_alike_names_never_match_each_other() -> None:
    matcher = NameMatcher(["car1_1", "car11", "bird1_1"])
    assert matcher.match("car1_1") == "car1_1"
    assert matcher.match("car11") == "car11"
    assert matcher.match("uav_car1_1") == "car1_1"
    assert matcher.match("uav_car11") == "car11"
    assert matcher.match("car1-1") == "car1_1"
    assert matcher.match("CAR1.1") == "car1_1"
    assert matcher.match("uav_bird1_1") == "bird1_1"
    assert matcher.match("bird11") is None
    assert matcher.match("bird1") is None  # the unsplit parent sequence


@pytest.mark.parametrize("expected", [["car1_1"], ["car11"]])
def test_look_alikes_stay_distinct_when_only_one_is_expected(expected: list[str]) -> None:
    """A partial download or a subset lists one of the pair; the other's file must not stand
    in for it."""
    other = {"car1_1": "car11", "car11": "car1_1"}[expected[0]]
    matcher = NameMatcher(expected)
    assert matcher.match(other) is None
    assert matcher.match(f"uav_{other}") is None
    assert matcher.assign([other, f"uav_{other}"]) == {}


def test_the_full_uav123_list_maps_every_pytracking_name_to_itself() -> None:
    from sparsett_bench.datasets import uav123

    matcher = NameMatcher(uav123.NAMES)
    assert len(uav123.NAMES) == 123
    assert {n: matcher.match(f"uav_{n}") for n in uav123.NAMES} == {n: n for n in uav123.NAMES}
    parents = {n.rsplit("_", 1)[0] for n in uav123.NAMES if re.fullmatch(r".+\d_\d+", n)}
    assert {"car1", "bird1", "person7"} <= parents
    assert [p for p in sorted(parents) if matcher.match(p) is not None] == []


def test_assign_prefers_the_closest_spelling() -> None:
    assigned = NameMatcher(["bike1", "Jogging-1"]).assign(["bike1_", "bike1", "jogging_1"])
    assert assigned == {"bike1": "bike1", "Jogging-1": "jogging_1"}
    # Same level (both differ only in case): the first in sorted order wins.
    assert NameMatcher(["Bike1"]).assign(["bike1", "BIKE1"]) == {"Bike1": "BIKE1"}


def test_names_that_clash_at_a_level_are_only_matched_exactly() -> None:
    matcher = NameMatcher(["Car1", "car1"])  # both exist in the list: case alone cannot decide
    assert matcher.match("Car1") == "Car1"
    assert matcher.match("car1") == "car1"
    assert matcher.match("CAR1") is None


def test_unified() -> None:
    assert unified(" Human4.2 ") == "human4-2"
    assert unified("GOT-10k_Test_000001") == "got-10k-test-000001"
    assert unified("a -_. b") == "a-b"
