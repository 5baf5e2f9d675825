"""Seeded starting noise (always drawn on the CPU so a seed means the same image everywhere) and VAE decoding."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from modules.model_manager.loaded_model import LoadedModel


def cpu_generators(seeds: list[int]) -> list[torch.Generator]:
    import torch

    return [torch.Generator("cpu").manual_seed(int(seed)) for seed in seeds]


def initial_noise(model: LoadedModel, seeds: list[int], width: int, height: int,
                  generators: list[torch.Generator]) -> torch.Tensor:
    """One noise tensor per seed, [len(seeds), C, H/f, W/f], drawn on the CPU then moved to the model."""
    import torch

    f = model.vae_scale_factor
    shape = (1, model.latent_channels, height // f, width // f)
    noise = torch.cat([torch.randn(shape, generator=g, dtype=torch.float32) for g in generators])
    return noise.to(device=model.unet.device, dtype=model.unet.dtype)


def _decode(vae: Any, latents: torch.Tensor) -> torch.Tensor:
    import torch

    scaled = latents.to(device=vae.device, dtype=vae.dtype) / vae.config.scaling_factor
    shift = getattr(vae.config, "shift_factor", None)
    if shift:
        scaled = scaled + shift
    with torch.no_grad():
        return vae.decode(scaled).sample


def decode_latents_checked(model: LoadedModel, latents: torch.Tensor) -> tuple[list[Image.Image], bool]:
    """(images, retried): a half-precision VAE whose output has NaNs decodes again in float32.

    The VAE goes back to its own dtype afterwards (half → float32 → half is exact).
    """
    import numpy as np
    import torch
    from PIL import Image

    vae = model.vae
    pixels = _decode(vae, latents)
    retried = False
    if vae.dtype in (torch.float16, torch.bfloat16) and bool(torch.isnan(pixels).any()):
        dtype = vae.dtype
        try:
            vae.to(torch.float32)
            pixels = _decode(vae, latents)
        finally:
            vae.to(dtype)
        retried = True
    pixels = (pixels.float() / 2 + 0.5).clamp(0, 1)
    arrays = (pixels.permute(0, 2, 3, 1).cpu().numpy() * 255).round().astype(np.uint8)
    return [Image.fromarray(a) for a in arrays], retried


def decode_latents(model: LoadedModel, latents: torch.Tensor) -> list[Image.Image]:
    """Latents → PIL images, via the VAE in its own dtype (float32 again when half precision gives NaNs)."""
    return decode_latents_checked(model, latents)[0]
