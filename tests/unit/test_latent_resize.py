"""img2img's "Just resize (latent upscale)" (resize mode 3): the init image is encoded at its own size and the
latents are interpolated to the output size, instead of stretching the pixels as mode 0 does."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from modules.generation.img2img_prep import latent_source_size, prepare_image, scaled_size
from modules.generation.latent_resize import resize_latents
from modules.generation.params import Img2ImgParams


def noise_image(width: int, height: int, seed: int = 0) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels, "RGB")


def test_mode_3_keeps_the_image_at_its_own_size_for_encoding() -> None:
    image = noise_image(101, 62)
    prepared = prepare_image(image, Img2ImgParams(init_images=(image,), width=64, height=64, resize_mode=3))
    assert prepared.latent_source is not None and prepared.latent_source.size == (104, 64)
    assert prepared.pixels.size == (64, 64)  # conditioning and overlay use the stretched pixels, as mode 0
    stretched = prepare_image(image, Img2ImgParams(init_images=(image,), width=64, height=64, resize_mode=0))
    assert stretched.latent_source is None
    assert np.array_equal(np.asarray(prepared.pixels), np.asarray(stretched.pixels))


def test_mode_3_with_a_mask_keeps_the_mask_at_the_output_size() -> None:
    image = noise_image(96, 64)
    mask = Image.new("L", (96, 64))
    mask.paste(255, (0, 0, 48, 64))
    params = Img2ImgParams(init_images=(image,), mask=mask, width=64, height=64, resize_mode=3, inpainting_fill=0)
    prepared = prepare_image(image, params)
    assert prepared.mask is not None and prepared.mask.size == (64, 64)
    assert prepared.latent_source is not None and prepared.latent_source.size == (96, 64)
    source = np.asarray(prepared.latent_source, dtype=np.int16)
    assert not np.array_equal(source[:, :40], np.asarray(image, dtype=np.int16)[:, :40]), "masked part filled"
    assert np.array_equal(source[:, 60:], np.asarray(image, dtype=np.int16)[:, 60:]), "the rest untouched"


@pytest.mark.parametrize(("size", "expected"), [((101, 62), (104, 64)), ((3, 3), (8, 8)), ((64, 64), (64, 64))])
def test_latent_source_size_rounds_to_eight(size: tuple[int, int], expected: tuple[int, int]) -> None:
    assert latent_source_size(*size) == expected


def test_resize_latents_interpolates_to_the_output_latent_size() -> None:
    latents = torch.arange(2 * 4 * 8 * 12, dtype=torch.float32).reshape(2, 4, 8, 12)
    out = resize_latents(latents, 64, 128, 8)
    assert out.shape == (2, 4, 16, 8) and out.dtype == latents.dtype
    assert resize_latents(latents, 96, 64, 8) is latents
    flat = torch.full((1, 4, 4, 4), 0.5)
    assert torch.allclose(resize_latents(flat, 64, 64, 8), torch.full((1, 4, 8, 8), 0.5))


def test_scaled_size_is_resize_by() -> None:
    assert scaled_size((100, 60), 1.0) == (96, 64)
    assert scaled_size((512, 384), 1.5) == (768, 576)
    assert scaled_size((512, 384), 0.05) == (64, 64)  # the size sliders' lowest
    assert scaled_size((2000, 1000), 4.0) == (2048, 2048)  # and highest


def test_encode_prepared_interpolates_each_image_latents(sd1_app) -> None:  # noqa: ANN001
    from modules.generation.latent_resize import encode_prepared
    from modules.generation.latents import encode_images

    model = sd1_app.models.current
    wide, square = noise_image(128, 64, 1), noise_image(64, 64, 2)
    params = Img2ImgParams(init_images=(wide, square), width=64, height=64, resize_mode=3)
    prepared = [prepare_image(image, params) for image in (wide, square)]
    latents = encode_prepared(model, prepared, 64, 64)
    f = model.vae_scale_factor
    assert latents.shape == (2, 4, 64 // f, 64 // f)
    expected = resize_latents(encode_images(model, [wide]), 64, 64, f)
    assert torch.allclose(latents[:1], expected, atol=1e-5)
    assert torch.allclose(latents[1:], encode_images(model, [square]), atol=1e-5)
    stretched = encode_images(model, [wide.resize((64, 64), Image.Resampling.LANCZOS)])
    assert not torch.allclose(latents[:1], stretched, atol=1e-3), "mode 3 is not mode 0"


def test_img2img_runs_with_latent_resize(sd1_app) -> None:  # noqa: ANN001
    from modules.generation.img2img import img2img
    from modules.jobs import Progress

    image = noise_image(96, 64, 3)
    base = Img2ImgParams(prompt="a fox", init_images=(image,), width=64, height=64, steps=2, seed=4,
                         denoising_strength=0.5)
    latent = img2img(sd1_app, replace(base, resize_mode=3), Progress(), save_images=False, save_grid=False)
    plain = img2img(sd1_app, base, Progress(), save_images=False, save_grid=False)
    assert latent.images[0].size == (64, 64)
    assert not np.array_equal(np.asarray(latent.images[0]), np.asarray(plain.images[0]))
