"""Inpainting checkpoints (9-channel UNet, like sd-v1-5-inpainting): they load through the normal
loader and get their mask + masked-image latents in txt2img and img2img, as in A1111."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from modules.generation.image_conditioning import needs_image_conditioning
from modules.generation.img2img import run_img2img
from modules.generation.latents import encode_images
from modules.generation.params import Img2ImgParams, Txt2ImgParams
from modules.generation.txt2img import run_txt2img
from tests.tiny_models import write_tiny_checkpoint

SMALL = {"width": 64, "height": 64, "steps": 3, "sampler_name": "Euler"}


@pytest.fixture
def inpaint_app(tmp_path: Path):  # noqa: ANN201
    from modules.app import build_app
    from modules.settings import Settings

    settings = Settings(data_dir=tmp_path, device="cpu", precision="fp32", demo_checkpoint=None)
    settings.ensure_folders()
    write_tiny_checkpoint(settings.checkpoint_dir, "sd1", name="tiny-inpainting", unet_in_channels=9)
    app = build_app(settings)
    app.load_default_model()
    return app


def _record_unet_inputs(model) -> list[torch.Tensor]:  # noqa: ANN001
    seen: list[torch.Tensor] = []
    model.unet.conv_in.register_forward_pre_hook(lambda _module, args: seen.append(args[0].detach().clone()))
    return seen


def _init() -> Image.Image:
    gradient = np.linspace(0, 255, 64, dtype=np.float32)
    rgb = np.stack([np.tile(gradient, (64, 1)), np.tile(gradient[:, None], (1, 64)), np.full((64, 64), 90.0)], -1)
    return Image.fromarray(rgb.astype(np.uint8))


def test_txt2img_gives_a_full_mask_over_a_grey_picture(inpaint_app) -> None:  # noqa: ANN001
    model = inpaint_app.models.current
    assert model.unet.config.in_channels == 9 and needs_image_conditioning(model)
    seen = _record_unet_inputs(model)
    result = run_txt2img(inpaint_app, Txt2ImgParams(prompt="a red circle", seed=1, batch_size=2, **SMALL))
    assert len(result.images) == 2 and result.images[0].size == (64, 64)
    assert seen and all(x.shape[1] == 9 for x in seen)
    first = seen[0]
    assert torch.equal(first[:, 4:5], torch.ones_like(first[:, 4:5]))  # everything is to be painted
    grey = encode_images(model, [Image.new("RGB", (64, 64), (128, 128, 128))])
    torch.testing.assert_close(first[:1, 5:], grey)  # the masked image: all grey


def test_img2img_gives_the_rounded_mask_and_the_image_with_that_part_greyed(inpaint_app) -> None:  # noqa: ANN001
    model = inpaint_app.models.current
    seen = _record_unet_inputs(model)
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 32, 64))  # repaint the left half
    params = Img2ImgParams(prompt="a red circle", init_images=(_init(),), mask=mask, mask_blur_x=0, mask_blur_y=0, seed=3,
                           denoising_strength=0.75, **SMALL)
    result = run_img2img(inpaint_app, params)
    assert len(result.images) == 1 and all(x.shape[1] == 9 for x in seen)
    latent_mask = seen[0][0, 4]
    h, w = latent_mask.shape
    assert torch.equal(latent_mask[:, : w // 2], torch.ones(h, w // 2))
    assert torch.equal(latent_mask[:, w // 2 :], torch.zeros(h, w - w // 2))
    greyed = np.asarray(_init()).copy()
    greyed[:, :32] = 128
    torch.testing.assert_close(seen[0][:1, 5:], encode_images(model, [Image.fromarray(greyed)]))
    # without a mask the whole init image is greyed out, as A1111 does
    seen.clear()
    run_img2img(inpaint_app, Img2ImgParams(prompt="x", init_images=(_init(),), seed=3, **SMALL))
    assert torch.equal(seen[0][:, 4:5], torch.ones_like(seen[0][:, 4:5]))


def test_an_ordinary_checkpoint_gets_no_extra_channels(sd1_app) -> None:  # noqa: ANN001
    model = sd1_app.models.current
    assert not needs_image_conditioning(model)
    seen = _record_unet_inputs(model)
    run_txt2img(sd1_app, Txt2ImgParams(prompt="x", seed=1, **SMALL))
    assert seen and all(x.shape[1] == 4 for x in seen)
