"""Sequence names are matched across the spellings toolkits use, never across sequences."""

from __future__ import annotations

import pytest

from sparsett_bench.naming import NameMatcher, unified

OTB = ["Jogging-1", "Jogging-2", "Skating2-1", "Skating2-2", "Human4-2", "Human2", "Tiger1"]


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        ("Jogging-1", "Jogging-1"),
        ("Jogging_1", "Jogging-1"),
        ("jogging-1", "Jogging-1"),
        ("Jogging.1", "Jogging-1"),
        ("Jogging1", "Jogging-1"),
        ("Human4.2", "Human4-2"),
        ("human4_2", "Human4-2"),
        ("Skating2.1", "Skating2-1"),
        ("Skating2-2", "Skating2-2"),
        ("tiger1", "Tiger1"),
        ("otb_Tiger1", "Tiger1"),
        ("Human3", None),
        ("Jogging", None),
    ],
)
def test_otb_spellings(found: str, expected: str | None) -> None:
    assert NameMatcher(OTB).match(found) == expected


def test_uav_loose_matching_is_refused_where_it_would_be_ambiguous() -> None:
    matcher = NameMatcher(["car1_1", "car11", "bird1_1"])
    assert matcher.match("car1_1") == "car1_1"
    assert matcher.match("car11") == "car11"
    assert matcher.match("uav_car1_1") == "car1_1"
    assert matcher.match("car1-1") == "car1_1"
    assert matcher.match("bird11") == "bird1_1"  # loose form unique among the names
    assert matcher.match("uav_bird1_1") == "bird1_1"


def test_assign_prefers_the_closest_spelling() -> None:
    assigned = NameMatcher(["bike1", "Jogging-1"]).assign(["bike1_", "bike1", "jogging_1"])
    assert assigned == {"bike1": "bike1", "Jogging-1": "jogging_1"}


def test_unified() -> None:
    assert unified(" Human4.2 ") == "human4-2"
    assert unified("GOT-10k_Test_000001") == "got-10k-test-000001"
