"""Shared fixtures: an App on CPU around tiny seeded checkpoints written in the real single-file format."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Every test runs torch on one intra-op thread: the tiny test models gain nothing from more, and on
    a busy 2-core machine two threads wait on each other and run 10-20x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., object]:
    """make_app(archs=("sd1",)) → App with one tiny checkpoint per arch in a temporary data dir."""
    from modules.app import build_app
    from modules.settings import Settings
    from tests.tiny_models import write_tiny_checkpoint

    def factory(archs: tuple[str, ...] = ("sd1",), load: bool = True):  # noqa: ANN202
        settings = Settings(data_dir=tmp_path, device="cpu", precision="fp32", demo_checkpoint=None)
        settings.ensure_folders()
        for i, arch in enumerate(archs):
            write_tiny_checkpoint(settings.checkpoint_dir, arch, name=f"tiny-{arch}", seed=i)
        app = build_app(settings)
        if load:
            app.load_default_model()
        return app

    return factory


@pytest.fixture
def sd1_app(make_app):  # noqa: ANN001, ANN201
    return make_app(("sd1",))
