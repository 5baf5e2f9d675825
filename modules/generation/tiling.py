"""Tiling (seamless textures): the UNet's and VAE's convolutions pad circularly for one run.

    with tiled(model, params.tiling):
        ...  # images whose left edge continues their right one, and top the bottom

Each torch Conv2d instance of the loaded model gets padding_mode "circular" and its own value back
afterwards, even when the run fails: the model is configured for the run, no library code is changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modules.model_manager.loaded_model import LoadedModel

CIRCULAR = "circular"


def _convolutions(model: LoadedModel) -> list[object]:
    import torch

    found = []
    for part in (model.unet, model.vae):
        found.extend(m for m in part.modules() if isinstance(m, torch.nn.Conv2d))
    return found


@contextmanager
def tiled(model: LoadedModel, enabled: bool = True) -> Iterator[None]:
    """The model's Conv2d layers pad circularly inside the block (nothing changes when not enabled)."""
    if not enabled:
        yield
        return
    convolutions = _convolutions(model)
    before = [conv.padding_mode for conv in convolutions]  # type: ignore[attr-defined]
    try:
        for conv in convolutions:
            conv.padding_mode = CIRCULAR  # type: ignore[attr-defined]
        yield
    finally:
        for conv, mode in zip(convolutions, before, strict=True):
            conv.padding_mode = mode  # type: ignore[attr-defined]
