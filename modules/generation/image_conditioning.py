"""Extra UNet input of inpainting checkpoints (sd-v1-5-inpainting and the like).

Their UNet takes 9 channels: the noisy latents, a 1-channel mask (1 = paint here) and the latents of
the image with the masked part greyed out. As in A1111 and diffusers, txt2img gives them a mask of
ones over a grey image; img2img gives the init image with the (rounded) mask's region greyed out, or
all of it greyed out when there is no mask. The extra channels go in unscaled, after the sampler's
input scaling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from modules.model_manager.loaded_model import LoadedModel

MASK_CHANNELS = 1


def needs_image_conditioning(model: LoadedModel) -> bool:
    """An inpainting UNet: it takes the latents plus a mask plus masked-image latents."""
    return int(model.unet.config.in_channels) == 2 * model.latent_channels + MASK_CHANNELS


def inpainting_conditioning(model: LoadedModel, images: list[Image.Image],
                            masks: list[Image.Image | None]) -> torch.Tensor:
    """[N, 1 + C, h, w]: per image, its latent-size mask (1 = repaint) and the latents of the image
    with the masked region grey. masks[i] None: the whole image is masked (txt2img, img2img without a
    mask). Masks are rounded first, as A1111 does."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from PIL import Image

    from modules.generation.latents import encode_images

    grey_images, mask_arrays = [], []
    for image, mask in zip(images, masks, strict=True):
        rgb = image.convert("RGB")
        if mask is None:
            binary = np.ones((rgb.height, rgb.width), dtype=np.float32)
        else:
            binary = (np.asarray(mask.convert("L").resize(rgb.size), dtype=np.float32) / 255.0).round()
        grey = Image.new("RGB", rgb.size, (128, 128, 128))
        grey_images.append(Image.composite(grey, rgb, Image.fromarray((binary * 255).astype(np.uint8))))
        mask_arrays.append(binary)
    latents = encode_images(model, grey_images)
    pixel_masks = torch.from_numpy(np.stack(mask_arrays))[:, None]
    latent_masks = F.interpolate(pixel_masks, size=latents.shape[-2:]).to(latents)
    return torch.cat([latent_masks, latents], dim=1)


def txt2img_conditioning(model: LoadedModel, count: int, width: int, height: int) -> torch.Tensor:
    """[count, 1 + C, h, w]: everything masked, over a grey picture."""
    from PIL import Image

    grey = Image.new("RGB", (width, height), (128, 128, 128))
    return inpainting_conditioning(model, [grey], [None]).repeat(count, 1, 1, 1)
