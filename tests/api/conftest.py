"""Fixtures for the API tests: a data folder with tiny checkpoints, a --nowebui server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.helpers import Served, make_data_dir, running_server


@pytest.fixture(scope="module")
def api_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with two tiny sd1 checkpoints (tiny-a loads first)."""
    return make_data_dir(tmp_path_factory.mktemp("api"), ("tiny-a", "tiny-b"))


@pytest.fixture(scope="module")
def api_server(api_data: Path) -> Iterator[Served]:
    """One --nowebui server shared by a test module."""
    with running_server(api_data, "--nowebui") as served:
        yield served

