"""The in-memory form of a loaded checkpoint: diffusers/transformers modules plus what the loop needs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # heavy imports only for type checkers
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

Arch = Literal["sd1", "sd2", "sdxl"]
PredictionType = Literal["epsilon", "v_prediction"]


@dataclass
class LoadedModel:
    """A checkpoint turned into runnable modules.

    text_encoders/tokenizers: one for sd1/sd2; two for sdxl (CLIP-L CLIPTextModel first, then the
    OpenCLIP-bigG CLIPTextModelWithProjection).
    scheduler_config: the training noise schedule as diffusers scheduler kwargs
    (num_train_timesteps, beta_start, beta_end, beta_schedule, prediction_type, ...).
    """

    arch: Arch
    unet: UNet2DConditionModel
    vae: AutoencoderKL
    text_encoders: list[CLIPTextModel | CLIPTextModelWithProjection]
    tokenizers: list[CLIPTokenizer]
    prediction_type: PredictionType
    scheduler_config: dict[str, Any]
    path: Path | None = None
    device: torch.device | None = None
    dtype: torch.dtype | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def vae_scale_factor(self) -> int:
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    @property
    def latent_channels(self) -> int:
        return int(self.vae.config.latent_channels)

    @property
    def default_size(self) -> int:
        """Native resolution the architecture was trained at (used for defaults, not enforced)."""
        return int(self.unet.config.sample_size) * self.vae_scale_factor

    @property
    def declared_size(self) -> tuple[int, int] | None:
        """(width, height) the file says it was trained at (safetensors 'modelspec.resolution', e.g.
        '64x64'), or None when it does not say or says something unusable."""
        return size_from_metadata(self.extra.get("metadata") or {})

    def nonfinite_weights(self) -> list[str]:
        """Names of the weight tensors (parameters and buffers) that hold NaN or infinite values, as
        loaded: 'unet.conv_out.weight', 'vae.…', 'text_encoder.…', 'text_encoder_2.…'. Such a model draws
        NaN for every image. One pass over the weights (about a second for SD 1.5 on a CPU)."""
        import itertools

        import torch

        parts = {"unet": self.unet, "vae": self.vae}
        parts.update({"text_encoder" + (f"_{i + 1}" if i else ""): e for i, e in enumerate(self.text_encoders)})
        found = []
        with torch.no_grad():
            for prefix, module in parts.items():
                for name, tensor in itertools.chain(module.named_parameters(), module.named_buffers()):
                    if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                        found.append(f"{prefix}.{name}")
        return found


def size_from_metadata(metadata: Mapping[str, Any]) -> tuple[int, int] | None:
    """(width, height) from a checkpoint's safetensors metadata ('modelspec.resolution', e.g. '64x64'),
    or None when it does not say or says something unusable."""
    text = str(metadata.get("modelspec.resolution", "")).lower().replace(" ", "")
    width, _, height = text.partition("x")
    if not (width.isdigit() and height.isdigit()):
        return None
    size = int(width), int(height)
    return size if all(64 <= v <= 2048 and v % 8 == 0 for v in size) else None
