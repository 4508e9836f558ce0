"""The golden model-forward tensors of the official implementation, and sparsett-swin-t with the
official-format weights they were made with."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import GOLDEN


@pytest.fixture(scope="session")
def golden() -> dict:
    path = GOLDEN / "model_forward.npz"
    if not path.is_file():
        pytest.skip(f"golden reference not available: {path}")
    return dict(np.load(path))


@pytest.fixture(scope="module")
def swin_t(official_checkpoint):
    from sparsett_bench.model.sparsett import SparseTT

    net = SparseTT(dropout=0.0).eval()
    net.load_official(official_checkpoint)
    return net
