"""The vectorised counting primitives agree with their plain definitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sparsett_bench.evaluation import metrics
from sparsett_bench.evaluation.protocols import (
    IOU_21,
    IOU_101,
    NORM_21_TRACKINGNET,
    NORM_51,
    NORM_51_GOT10K,
    PIXELS_21_TRACKINGNET,
    PIXELS_51,
)

GRIDS = [
    IOU_21,
    IOU_101,
    PIXELS_51,
    NORM_51,
    NORM_51_GOT10K,
    PIXELS_21_TRACKINGNET,
    NORM_21_TRACKINGNET,
]


@pytest.mark.parametrize("grid", GRIDS, ids=range(len(GRIDS)))
@pytest.mark.parametrize("right", [False, True])
def test_insertion_index_is_searchsorted_even_on_the_grid_points(grid, right) -> None:
    values = np.concatenate(
        [
            grid,
            np.nextafter(grid, np.inf),
            np.nextafter(grid, -np.inf),
            [-np.inf, np.inf, -1.0, 1e9],
            np.arange(0, 1.0001, 0.05),
            np.arange(51) / 100,
            np.arange(0, 60.0),
        ]
    )
    expected = np.searchsorted(grid, values, side="right" if right else "left")
    assert np.array_equal(metrics.insertion_index(grid, values, right), expected)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(allow_nan=False, width=64), min_size=1, max_size=50),
    st.sampled_from(range(len(GRIDS))),
    st.booleans(),
)
def test_insertion_index_on_arbitrary_values(values, grid_index, right) -> None:
    grid, values = GRIDS[grid_index], np.array(values)
    expected = np.searchsorted(grid, values, side="right" if right else "left")
    assert np.array_equal(metrics.insertion_index(grid, values, right), expected)


def test_counts_by_hand() -> None:
    values = np.array([0.5, 0.0, np.nan, 1.0, 0.25])
    runs = np.array([0, 0, 0, 1, 1])
    grid = np.array([0.0, 0.5, 1.0])
    # run 0: 0.5 > 0 only; 0.0 none; NaN none -> [1, 0, 0]; run 1: 1.0 > 0, 0.5; 0.25 > 0.
    assert metrics.count_above(values, grid, runs, 2, inclusive=False).tolist() == [
        [1, 0, 0],
        [2, 1, 0],
    ]
    # with >=: run 0: 0.5 passes 0, 0.5; 0.0 passes 0 -> [2, 1, 0]; run 1: [2, 1, 1]
    assert metrics.count_above(values, grid, runs, 2, inclusive=True).tolist() == [
        [2, 1, 0],
        [2, 1, 1],
    ]
    # <=: run 0: 0.5 <= 0.5, 1; 0.0 <= all; NaN none -> [1, 2, 2]; run 1: 1.0 <= 1; 0.25 <= 0.5, 1
    assert metrics.count_below(values, grid, runs, 2).tolist() == [[1, 2, 2], [0, 1, 2]]
    assert metrics.trapezoid_area(np.array([1.0, 0.5, 0.0]), np.array([0.0, 0.5, 1.0])) == 0.5
