"""Building a checkpoint's modules without weights holds for the loading thread only: a model built on
another thread at the same moment (the start-up load runs on a thread of its own) gets real tensors."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
import torch

from modules.model_manager import checkpoints
from modules.model_manager.checkpoints import load_checkpoint
from tests.tiny_models import write_tiny_checkpoint


def _linear_built_on_another_thread() -> torch.nn.Linear:
    built: list[torch.nn.Linear] = []
    thread = threading.Thread(target=lambda: built.append(torch.nn.Linear(4, 4)))
    thread.start()
    thread.join(30)
    return built[0]


def _built_inside(context: Callable[[], AbstractContextManager[object]]) -> torch.nn.Linear:
    with context():
        return _linear_built_on_another_thread()


def test_the_meta_device_context_holds_for_its_own_thread_only() -> None:
    from accelerate import init_empty_weights

    assert not _built_inside(lambda: torch.device("meta")).weight.is_meta
    assert _built_inside(init_empty_weights).weight.is_meta  # process-wide: why the loader no longer uses it


def test_a_model_built_on_another_thread_during_a_checkpoint_build_gets_real_weights() -> None:
    other: list[torch.nn.Linear] = []

    def factory() -> torch.nn.Module:  # runs inside the loader's build context
        other.append(_linear_built_on_another_thread())
        return torch.nn.Linear(2, 2)

    state = {"weight": torch.ones(2, 2), "bias": torch.zeros(2)}
    module = checkpoints._build(factory, state, "test")
    assert torch.equal(module.weight, state["weight"])
    assert not other[0].weight.is_meta and torch.isfinite(other[0].weight).all()


@pytest.fixture(scope="module")
def sdxl_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield write_tiny_checkpoint(tmp_path_factory.mktemp("ckpt"), "sdxl", name="tiny-sdxl")


def test_every_tensor_is_real_and_clip_positions_count_up(sdxl_file: Path) -> None:
    model = load_checkpoint(sdxl_file)
    for module in (model.unet, model.vae, *model.text_encoders):
        assert not [n for n, t in [*module.named_parameters(), *module.named_buffers()] if t.is_meta]
    for encoder in model.text_encoders:
        [positions] = [t for n, t in encoder.named_buffers() if n.endswith("embeddings.position_ids")]
        assert torch.equal(positions, torch.arange(positions.shape[-1]).unsqueeze(0))
