"""A checkpoint switch on an accelerator: the new model is read into RAM and swapped in, so the device
never holds two models; when it does not fit, the old model goes back and stays in use."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from modules.errors import CheckpointLoadError
from modules.model_manager.manager import ModelManager
from tests.tiny_models import write_tiny_checkpoint

GPU = torch.device("cuda")  # only a name here: the recording mover never touches a real device


class RecordingMover:
    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail_on = fail_on

    def __call__(self, model, device: torch.device) -> None:  # noqa: ANN001
        name = model.path.stem
        self.calls.append((name, device.type))
        if name == self.fail_on and device.type == "cuda":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        model.device = device


def _manager(make_app, mover: RecordingMover) -> ModelManager:  # noqa: ANN001
    app = make_app(("sd1", "sd2"), load=False)
    manager = ModelManager(app.folders, app.devices, mover=mover)
    app.folders.scan()
    manager.load("tiny-sd1")  # the first load goes straight to the plan's device (CPU here)
    manager.plan = replace(app.devices, device=GPU)  # from now on, act as if the plan were a GPU
    return manager


def test_the_old_model_leaves_the_device_before_the_new_one_arrives(make_app) -> None:  # noqa: ANN001
    mover = RecordingMover()
    manager = _manager(make_app, mover)
    assert mover.calls == []
    model = manager.load("tiny-sd2")
    assert mover.calls == [("tiny-sd1", "cpu"), ("tiny-sd2", "cuda")]
    assert manager.current is model and model.arch == "sd2" and model.device == GPU
    assert next(model.unet.parameters()).device.type == "cpu"  # it was read into RAM, not onto the device


def test_a_model_that_does_not_fit_gives_way_to_the_old_one(make_app) -> None:  # noqa: ANN001
    mover = RecordingMover(fail_on="tiny-sd2")
    manager = _manager(make_app, mover)
    old = manager.current
    with pytest.raises(CheckpointLoadError, match="does not fit on cuda.*out of memory.*previous model stays"):
        manager.load("tiny-sd2")
    assert mover.calls == [("tiny-sd1", "cpu"), ("tiny-sd2", "cuda"), ("tiny-sd2", "cpu"), ("tiny-sd1", "cuda")]
    assert manager.current is old and manager.current_info.name == "tiny-sd1.safetensors"  # type: ignore[union-attr]
    assert "does not fit" in manager.status


def test_moving_a_model_keeps_dtypes_and_updates_its_device(tmp_path: Path) -> None:
    from modules.model_manager.checkpoints import load_checkpoint
    from modules.model_manager.placement import move_model

    model = load_checkpoint(write_tiny_checkpoint(tmp_path, "sd1"), dtype=torch.float16, vae_dtype=torch.float32)
    model.device = torch.device("meta")  # as if it were elsewhere: the move must record where it went
    move_model(model, torch.device("cpu"))
    assert model.device == torch.device("cpu")
    assert next(model.unet.parameters()).dtype == torch.float16 and next(model.vae.parameters()).dtype == torch.float32
