"""Seeded starting noise (always drawn on the CPU so a seed means the same image everywhere), VAE encoding and decoding."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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


def vae_decode(vae: Any, latents: torch.Tensor) -> torch.Tensor:
    """Scaled latents → pixels in -1..1 through the VAE in its own dtype (no NaN check)."""
    import torch

    scaled = latents.to(device=vae.device, dtype=vae.dtype) / vae.config.scaling_factor
    shift = getattr(vae.config, "shift_factor", None)
    if shift:
        scaled = scaled + shift
    with torch.no_grad():
        return vae.decode(scaled).sample


def _with_fp32_retry(vae: Any, run: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, bool]:
    """(run(), False), or when a half-precision VAE gives NaNs: (run() again in float32, True).
    The VAE goes back to its own dtype afterwards (half → float32 → half is exact)."""
    import torch

    out = run()
    if vae.dtype not in (torch.float16, torch.bfloat16) or not bool(torch.isnan(out).any()):
        return out, False
    dtype = vae.dtype
    try:
        vae.to(torch.float32)
        return run(), True
    finally:
        vae.to(dtype)


@dataclass
class DecodedBatch:
    images: list[Image.Image]
    retried: bool  # a half-precision VAE gave NaNs, so the batch was decoded again in float32
    broken: list[int] = field(default_factory=list)  # images whose latents or pixels were not finite: blank


def decode_latents_checked(model: LoadedModel, latents: torch.Tensor) -> DecodedBatch:
    """Latents → images, with two checks. A half-precision VAE whose output has NaNs decodes again in
    float32 (retried). Latents that are not finite (a sampler or a half-precision UNet that broke down)
    or pixels that stay so are listed in broken; such an image is decoded from zeros, a blank to drop,
    and never makes the VAE retry."""
    import numpy as np
    import torch
    from PIL import Image

    finite_latents = torch.isfinite(latents).flatten(1).all(dim=1)
    if not bool(finite_latents.all()):
        latents = torch.where(finite_latents.view(-1, *[1] * (latents.dim() - 1)), latents, 0.0)
    pixels, retried = _with_fp32_retry(model.vae, lambda: vae_decode(model.vae, latents))
    finite = finite_latents.to(pixels.device) & torch.isfinite(pixels).flatten(1).all(dim=1)
    pixels = (pixels.float().nan_to_num(0.0) / 2 + 0.5).clamp(0, 1)
    arrays = (pixels.permute(0, 2, 3, 1).cpu().numpy() * 255).round().astype(np.uint8)
    broken = [i for i, ok in enumerate(finite.tolist()) if not ok]
    return DecodedBatch([Image.fromarray(a) for a in arrays], retried, broken)


def decode_latents(model: LoadedModel, latents: torch.Tensor) -> list[Image.Image]:
    """Latents → PIL images, via the VAE in its own dtype (float32 again when half precision gives NaNs)."""
    return decode_latents_checked(model, latents).images


def _encode(vae: Any, pixels: torch.Tensor) -> torch.Tensor:
    import torch

    with torch.no_grad():
        mean = vae.encode(pixels.to(device=vae.device, dtype=vae.dtype)).latent_dist.mean
    shift = getattr(vae.config, "shift_factor", None)
    if shift:
        mean = mean - shift
    return mean * vae.config.scaling_factor


def encode_images(model: LoadedModel, images: list[Image.Image]) -> torch.Tensor:
    """RGB images (all the same size) → scaled latents [N, C, H/f, W/f] in the UNet's device and dtype.

    The posterior's mean is used, not a sample, so the same image gives the same latents everywhere.
    A half-precision VAE whose output has NaNs encodes again in float32 (as decoding does).
    """
    import numpy as np
    import torch

    arrays = np.stack([np.asarray(image.convert("RGB"), dtype=np.float32) / 127.5 - 1.0 for image in images])
    pixels = torch.from_numpy(arrays).permute(0, 3, 1, 2)
    latents, _ = _with_fp32_retry(model.vae, lambda: _encode(model.vae, pixels))
    return latents.to(device=model.unet.device, dtype=model.unet.dtype)
