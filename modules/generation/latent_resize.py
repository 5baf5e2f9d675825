"""img2img's "Just resize (latent upscale)" (resize mode 3): the init image is VAE-encoded at its own size and
its latents are interpolated to the output size, instead of the pixels being stretched first (A1111's way).

    latents = encode_prepared(model, prepared, width, height)   # [N, C, height/f, width/f]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from modules.generation.img2img_prep import PreparedImage
    from modules.model_manager.loaded_model import LoadedModel


def resize_latents(latents: torch.Tensor, width: int, height: int, factor: int) -> torch.Tensor:
    """latents [N, C, h, w] bilinearly interpolated to the latent size of a width x height image (unchanged
    when already that size)."""
    import torch.nn.functional as F

    size = (height // factor, width // factor)
    if tuple(latents.shape[-2:]) == size:
        return latents
    return F.interpolate(latents.float(), size=size, mode="bilinear", align_corners=False).to(latents.dtype)


def encode_prepared(model: LoadedModel, prepared: list[PreparedImage], width: int, height: int) -> torch.Tensor:
    """The init latents of prepared images at width x height: their pixels encoded together, or, when any
    has a latent_source (resize mode 3), each encoded at its own size and interpolated to the output size."""
    import torch

    from modules.generation.latents import encode_images

    if all(p.latent_source is None for p in prepared):
        return encode_images(model, [p.pixels for p in prepared])
    factor = model.vae_scale_factor
    parts = [resize_latents(encode_images(model, [p.pixels if p.latent_source is None else p.latent_source]), width, height, factor)
             for p in prepared]
    return torch.cat(parts)
