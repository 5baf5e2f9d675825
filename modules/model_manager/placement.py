"""Moving a loaded model between devices, so a checkpoint switch never holds two models on the GPU."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import torch

    from modules.model_manager.loaded_model import LoadedModel


class Mover(Protocol):
    def __call__(self, model: LoadedModel, device: torch.device) -> None: ...


def move_model(model: LoadedModel, device: torch.device) -> None:
    """All of the model's modules to device (dtypes kept), then let the allocator return what the
    old place held."""
    import torch

    source = model.device
    for module in (model.unet, model.vae, *model.text_encoders):
        torch.nn.Module.to(module, device=device)  # plain move; ModelMixin.to only adds a warning
    model.device = device
    if source is not None and source.type == "cuda" and torch.cuda.is_available():
        torch.cuda.empty_cache()
