"""img2img's pixel side: resize modes, masks, "Only masked" crops, fill and the overlay that restores the original."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from modules.errors import InvalidParams
from modules.generation.denoise import img2img_steps
from modules.generation.img2img_prep import (
    apply_overlay,
    crop_region,
    expand_to_aspect,
    fill_masked,
    prepare_image,
    resize_image,
)
from modules.generation.params import Img2ImgParams


def _noise_image(width: int, height: int, seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))


def _left_half_mask(width: int, height: int) -> Image.Image:
    mask = Image.new("L", (width, height), 0)
    mask.paste(255, (0, 0, width // 2, height))
    return mask


def test_img2img_steps_follow_a1111_and_strength_zero_runs_none() -> None:
    assert img2img_steps(20, 0.75) == 16  # int(0.75 * 20) + 1, as A1111 runs
    assert img2img_steps(20, 1.0) == 20 and img2img_steps(20, 0.5) == 11
    assert img2img_steps(20, 0.01) == 1 and img2img_steps(20, 0.0) == 0


@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_resize_modes_give_the_size_asked_for(mode: int) -> None:
    wide = _noise_image(120, 40)
    assert resize_image(mode, wide, 64, 64).size == (64, 64)
    same = _noise_image(64, 64)
    assert np.array_equal(np.asarray(resize_image(mode, same, 64, 64)), np.asarray(same))


def test_crop_and_fill_modes_keep_the_aspect_ratio() -> None:
    wide = Image.new("RGB", (128, 64), (200, 0, 0))
    wide.paste((0, 0, 200), (0, 0, 32, 64))  # a blue band on the left quarter
    cropped = np.asarray(resize_image(1, wide, 64, 64))
    assert (cropped[:, :, 0] > 150).all(), "crop and resize cuts the centre: no blue left"
    filled = np.asarray(resize_image(2, wide, 64, 64))
    assert (filled[16:48, 0, 2] > 150).all() and (filled[:16, 32, 0] > 150).all(), "the letterbox bars repeat the edge colours"


def test_crop_region_and_expansion_to_the_output_aspect() -> None:
    mask = Image.new("L", (100, 100), 0)
    mask.paste(255, (40, 40, 50, 60))
    assert crop_region(mask, 4) == (36, 36, 54, 64)
    assert crop_region(Image.new("L", (10, 10), 0), 4) == (0, 0, 10, 10)
    left, top, right, bottom = expand_to_aspect((36, 36, 54, 64), 64, 64, 100, 100)
    assert right - left == bottom - top == 28 and left >= 0 and right <= 100
    assert expand_to_aspect((0, 0, 10, 90), 64, 64, 100, 100) == (0, 0, 90, 90)


def test_fill_replaces_only_masked_pixels_with_surrounding_colours() -> None:
    image = Image.new("RGB", (32, 32), (10, 200, 30))
    image.paste((255, 255, 255), (8, 8, 24, 24))
    mask = Image.new("L", (32, 32), 0)
    mask.paste(255, (8, 8, 24, 24))
    out = np.asarray(fill_masked(image, mask)).astype(int)
    assert np.abs(out[16, 16] - [10, 200, 30]).max() <= 2
    assert np.array_equal(out[:8], np.asarray(image)[:8])


def test_overlay_restores_the_original_outside_the_blurred_mask() -> None:
    init = _noise_image(64, 64)
    params = Img2ImgParams(init_images=(init,), mask=_left_half_mask(64, 64), mask_blur_x=4, mask_blur_y=4,
                           width=64, height=64)
    prepared = prepare_image(init, params)
    out = np.asarray(apply_overlay(Image.new("RGB", (64, 64), (0, 0, 0)), prepared))
    assert np.array_equal(out[:, 48:], np.asarray(init)[:, 48:])
    assert (out[:, :24] == 0).all(), "inside the mask the generated pixels are kept"


def test_mask_of_another_size_is_resized_and_invert_swaps_regions() -> None:
    init = _noise_image(64, 64)
    params = Img2ImgParams(init_images=(init,), mask=_left_half_mask(32, 16), mask_blur_x=0, mask_blur_y=0,
                           inpainting_mask_invert=True, width=64, height=64)
    prepared = prepare_image(init, params)
    assert prepared.mask is not None and prepared.mask.size == (64, 64)
    mask = np.asarray(prepared.mask)
    assert (mask[:, :30] == 0).all() and (mask[:, 34:] == 255).all()


def test_only_masked_generates_the_crop_and_pastes_it_back_at_the_original_size() -> None:
    init = _noise_image(96, 80)
    mask = Image.new("L", (96, 80), 0)
    mask.paste(255, (60, 20, 76, 40))
    params = Img2ImgParams(init_images=(init,), mask=mask, inpaint_full_res=True, inpaint_full_res_padding=8,
                           mask_blur_x=2, mask_blur_y=2, width=64, height=64)
    prepared = prepare_image(init, params)
    assert prepared.pixels.size == (64, 64) and prepared.paste_box is not None
    left, top, right, bottom = prepared.paste_box
    assert right - left == bottom - top and left <= 52 and right >= 84
    out = np.asarray(apply_overlay(Image.new("RGB", (64, 64), (0, 0, 0)), prepared))
    assert out.shape == (80, 96, 3)
    assert np.array_equal(out[:, :40], np.asarray(init)[:, :40])
    assert (out[28:32, 66:70] == 0).all()


@pytest.mark.parametrize(("field", "value", "named"), [
    ("denoising_strength", 1.5, "Denoising strength"), ("denoising_strength", -0.1, "Denoising strength"),
    ("resize_mode", 4, "Resize mode"), ("mask_blur_x", 65, "Mask blur"), ("inpainting_fill", 4, "inpainting_fill"),
    ("inpaint_full_res_padding", -1, "padding"), ("initial_noise_multiplier", 2.0, "Noise multiplier"),
    ("width", 65, "width"), ("init_images", (), "init image"),
])
def test_img2img_params_are_validated_by_name(field: str, value: object, named: str) -> None:
    params = Img2ImgParams(init_images=(_noise_image(8, 8),), width=64, height=64)
    params.validate()
    with pytest.raises(InvalidParams, match=named):
        Img2ImgParams(**{**{"init_images": params.init_images, "width": 64, "height": 64}, field: value}).validate()
