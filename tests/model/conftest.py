"""The official-format checkpoint, regenerated once per test session by the golden folder's
own deterministic script (../shared/golden/sparsett_official/make_official_checkpoint.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SHARED_DATA

GOLDEN = SHARED_DATA.parent / "golden" / "sparsett_official"


@pytest.fixture(scope="session")
def official_checkpoint(tmp_path_factory) -> Path:
    script = GOLDEN / "make_official_checkpoint.py"
    if not script.is_file():
        pytest.skip(f"golden reference not available: {GOLDEN}")
    out = tmp_path_factory.mktemp("official") / "sparsett_official_det.pth"
    subprocess.run(
        [
            sys.executable,
            str(script),
            "--keys",
            str(GOLDEN / "official_keys.json"),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="session")
def golden() -> dict:
    path = GOLDEN / "model_forward.npz"
    if not path.is_file():
        pytest.skip(f"golden reference not available: {path}")
    return dict(np.load(path))
