"""Shared fixtures: the real third-party data beside the project root, when present."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data; the test is skipped (with the reason) when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real reference data not available: {path} (see ../shared/data/README.md)")
    return path


@pytest.fixture(scope="session", autouse=True)
def _private_parse_cache(tmp_path_factory: pytest.TempPathFactory):
    """Keep the tests' parse cache out of the user's ~/.cache (subprocesses inherit it too)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPARSETT_CACHE_DIR", str(tmp_path_factory.mktemp("parse-cache")))
        yield
