"""The golden model-forward tensors of the official implementation."""

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
