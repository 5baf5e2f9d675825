"""Inpainting in latent space: the latent mask, masked content, and the per-step blend hook.

The latent mask (1 = repaint) is the blurred pixel mask scaled down to the latent size, rounded to
0/1 when mask_round is on (A1111's default). After every sampler step the known region is put
back from the init latents noised to the level the sampler has reached (scheduler.add_noise to the
next timestep); after the last step, from the clean init latents. Pixels outside the mask are
restored exactly after decoding (img2img_prep.apply_overlay).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from modules.generation.denoise import DenoiseState


def latent_mask(masks: list[Image.Image], latent_w: int, latent_h: int, round_mask: bool) -> torch.Tensor:
    """[N, 1, h, w] float in 0..1 (1 = repaint) from greyscale masks at image size."""
    import numpy as np
    import torch
    from PIL import Image

    arrays = [np.asarray(m.convert("L").resize((latent_w, latent_h), Image.Resampling.BILINEAR),
                         dtype=np.float32) / 255.0 for m in masks]
    mask = torch.from_numpy(np.stack(arrays))[:, None]
    return mask.round() if round_mask else mask


def masked_content(init: torch.Tensor, mask: torch.Tensor, fill: int,
                   generators: list[torch.Generator]) -> torch.Tensor:
    """init with the masked region as A1111's "Masked content" asks: 2 latent noise, 3 latent nothing.

    0 (fill) was done on the pixels already and 1 (original) keeps the init latents. The latent
    noise is drawn from the images' own CPU generators, so it follows the seeds.
    """
    import torch

    if fill == 2:
        noise = torch.cat([torch.randn((1, *init.shape[1:]), generator=g, dtype=torch.float32) for g in generators])
        return init * (1 - mask) + noise.to(init) * mask
    if fill == 3:
        return init * (1 - mask)
    return init


@dataclass
class InpaintBlend:
    """POST_STEP hook: outside the mask, the latents follow the init latents at the current noise level."""

    scheduler: Any
    init: torch.Tensor  # clean init latents
    noise: torch.Tensor  # the noise the start was made with
    mask: torch.Tensor  # 1 = repaint

    def __call__(self, state: DenoiseState) -> None:
        known = self.init
        if state.next_timestep is not None:
            t = state.next_timestep.reshape(1).repeat(self.init.shape[0])
            known = self.scheduler.add_noise(self.init, self.noise.to(self.init.dtype), t)
        state.latents = self.blend(state.latents, known)

    def blend(self, latents: torch.Tensor, known: torch.Tensor | None = None) -> torch.Tensor:
        mask = self.mask.to(latents)
        return latents * mask + (self.init if known is None else known).to(latents) * (1 - mask)
