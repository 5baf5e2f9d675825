"""Seeded starting noise (always drawn on the CPU so a seed means the same image everywhere), VAE encoding and decoding."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from modules.generation.tiled_vae import VaeTiling
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


TILING_KEY = "vae_tiling"  # LoadedModel.extra[TILING_KEY]: the VaeTiling of the running generation (Settings)


def _tiling(tiling: VaeTiling | None) -> VaeTiling:
    from modules.generation.tiled_vae import VaeTiling

    return tiling if tiling is not None else VaeTiling()


def model_tiling(model: LoadedModel, tiling: VaeTiling | None = None) -> VaeTiling | None:
    """tiling, else the one the running generation set on the model (extra[TILING_KEY]), else None (automatic)."""
    extra = getattr(model, "extra", None)
    return tiling if tiling is not None else extra.get(TILING_KEY) if isinstance(extra, dict) else None


def vae_decode(vae: Any, latents: torch.Tensor, tiling: VaeTiling | None = None) -> torch.Tensor:
    """Scaled latents → pixels in -1..1 through the VAE in its own dtype (no NaN check). Large images (or
    every image, with the tiled VAE option: tiling) are decoded tile by tile (modules/generation/tiled_vae.py)."""
    import torch

    from modules.generation.tiled_vae import tiled_decode

    scaled = latents.to(device=vae.device, dtype=vae.dtype) / vae.config.scaling_factor
    shift = getattr(vae.config, "shift_factor", None)
    if shift:
        scaled = scaled + shift
    plan = _tiling(tiling)
    factor = 2 ** (len(vae.config.block_out_channels) - 1)
    with torch.no_grad():
        if plan.wanted(scaled.shape[-1] * factor, scaled.shape[-2] * factor):
            return tiled_decode(vae, scaled, plan)
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


def decode_latents_checked(model: LoadedModel, latents: torch.Tensor, tiling: VaeTiling | None = None) -> DecodedBatch:
    """Latents → images, with two checks. A half-precision VAE whose output has NaNs decodes again in
    float32 (retried). Latents that are not finite (a sampler or a half-precision UNet that broke down)
    or pixels that stay so are listed in broken; such an image is decoded from zeros, a blank to drop,
    and never makes the VAE retry. tiling: when to decode in tiles (None: only images over the automatic size)."""
    import numpy as np
    import torch
    from PIL import Image

    finite_latents = torch.isfinite(latents).flatten(1).all(dim=1)
    if not bool(finite_latents.all()):
        latents = torch.where(finite_latents.view(-1, *[1] * (latents.dim() - 1)), latents, 0.0)
    tiling = model_tiling(model, tiling)
    pixels, retried = _with_fp32_retry(model.vae, lambda: vae_decode(model.vae, latents, tiling))
    finite = finite_latents.to(pixels.device) & torch.isfinite(pixels).flatten(1).all(dim=1)
    pixels = (pixels.float().nan_to_num(0.0) / 2 + 0.5).clamp(0, 1)
    arrays = (pixels.permute(0, 2, 3, 1).cpu().numpy() * 255).round().astype(np.uint8)
    broken = [i for i, ok in enumerate(finite.tolist()) if not ok]
    return DecodedBatch([Image.fromarray(a) for a in arrays], retried, broken)


def decode_latents(model: LoadedModel, latents: torch.Tensor, tiling: VaeTiling | None = None) -> list[Image.Image]:
    """Latents → PIL images, via the VAE in its own dtype (float32 again when half precision gives NaNs)."""
    return decode_latents_checked(model, latents, tiling).images


def _encode(vae: Any, pixels: torch.Tensor, tiling: VaeTiling | None = None) -> torch.Tensor:
    import torch

    from modules.generation.tiled_vae import tiled_encode_mean

    plan = _tiling(tiling)
    pixels = pixels.to(device=vae.device, dtype=vae.dtype)
    with torch.no_grad():
        if plan.wanted(pixels.shape[-1], pixels.shape[-2]):
            mean = tiled_encode_mean(vae, pixels, plan)
        else:
            mean = vae.encode(pixels).latent_dist.mean
    shift = getattr(vae.config, "shift_factor", None)
    if shift:
        mean = mean - shift
    return mean * vae.config.scaling_factor


def encode_images(model: LoadedModel, images: list[Image.Image], tiling: VaeTiling | None = None) -> torch.Tensor:
    """RGB images (all the same size) → scaled latents [N, C, H/f, W/f] in the UNet's device and dtype.

    The posterior's mean is used, not a sample, so the same image gives the same latents everywhere.
    A half-precision VAE whose output has NaNs encodes again in float32 (as decoding does). tiling: as for
    decoding (large images are encoded tile by tile).
    """
    import numpy as np
    import torch

    arrays = np.stack([np.asarray(image.convert("RGB"), dtype=np.float32) / 127.5 - 1.0 for image in images])
    pixels = torch.from_numpy(arrays).permute(0, 3, 1, 2)
    tiling = model_tiling(model, tiling)
    latents, _ = _with_fp32_retry(model.vae, lambda: _encode(model.vae, pixels, tiling))
    return latents.to(device=model.unet.device, dtype=model.unet.dtype)
