"""Fixtures of the dataset tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.datasets.local_http import Server


@pytest.fixture
def server() -> Iterator[Server]:
    """A bounded local HTTP server (127.0.0.1, ephemeral port), shut down after the test."""
    s = Server()
    yield s
    s.close()
