"""Hires fix, variation seed and tiling keys: written in A1111's order and read back; the hires size rule and
the second pass's prompt schedule. Pure functions, no model."""

from __future__ import annotations

from dataclasses import replace

import pytest

from modules.generation.denoise import img2img_steps
from modules.generation.hires import hires_infotext, hires_schedule, hires_size
from modules.generation.infotext import create_infotext, params_from_infotext, parse_infotext
from modules.generation.params import Img2ImgParams, Txt2ImgParams
from modules.generation.prompt_conditioning import plan_prompts

EVERYTHING = Txt2ImgParams(
    prompt="a cat", negative_prompt="blurry", sampler_name="Euler a", scheduler="Automatic", steps=28,
    cfg_scale=6.5, seed=3713437183, width=512, height=768, subseed=1122334455, subseed_strength=0.2,
    seed_resize_from_w=448, seed_resize_from_h=640, tiling=True, enable_hr=True, hr_scale=2.0,
    hr_upscaler="Latent (nearest-exact)", hr_second_pass_steps=15, denoising_strength=0.45,
    hr_sampler_name="DPM++ 2M", hr_scheduler="Karras", hr_prompt="a cat, detailed", hr_negative_prompt="ugly",
    hr_cfg_scale=5.0)


def _infotext(params: Txt2ImgParams) -> str:
    return create_infotext(params, params.seed, "model", "0123456789", hires_infotext(params))


def test_every_new_key_round_trips() -> None:
    for params in (EVERYTHING, replace(EVERYTHING, hr_resize_x=1024, hr_resize_y=0, hr_scale=2.0)):
        back = params_from_infotext(_infotext(params))
        assert back == params


def test_keys_are_written_in_a1111_order() -> None:
    keys = list(parse_infotext(_infotext(EVERYTHING)))
    order = ["Seed", "Size", "Model hash", "Variation seed", "Variation seed strength", "Seed resize from",
             "Denoising strength", "Tiling", "Hires sampler", "Hires prompt", "Hires negative prompt",
             "Hires schedule type", "Hires upscale", "Hires steps", "Hires upscaler", "Hires CFG Scale", "Version"]
    assert [k for k in keys if k in order] == order


def test_a1111_example_reads_as_hires_fix() -> None:
    text = ("masterpiece\nNegative prompt: worst quality\nSteps: 28, Sampler: Euler a, Schedule type: Automatic, "
            "CFG scale: 6.5, Seed: 3713437183, Size: 512x768, Model hash: 0a1b2c3d4e, Model: someModel_v10, "
            "Variation seed: 1122334455, Variation seed strength: 0.2, Denoising strength: 0.45, Clip skip: 2, "
            "Hires upscale: 2, Hires steps: 15, Hires upscaler: R-ESRGAN 4x+ Anime6B, Version: v1.10.1")
    p = params_from_infotext(text)
    assert (p.enable_hr, p.hr_scale, p.hr_second_pass_steps, p.hr_upscaler) == (True, 2.0, 15, "R-ESRGAN 4x+ Anime6B")
    assert (p.denoising_strength, p.hr_sampler_name, p.hr_scheduler) == (0.45, "Use same sampler", "Use same scheduler")
    assert (p.hr_resize_x, p.hr_resize_y, p.hr_prompt, p.hr_cfg_scale) == (0, 0, "", None)
    assert (p.subseed, p.subseed_strength, p.width, p.height) == (1122334455, 0.2, 512, 768)


def test_missing_keys_turn_the_features_off() -> None:
    before = replace(EVERYTHING, seed=1)
    p = params_from_infotext("a dog\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 64x64", before)
    assert not p.enable_hr and not p.tiling and p.subseed_strength == 0.0
    assert (p.seed_resize_from_w, p.seed_resize_from_h) == (0, 0)


def test_old_first_pass_size_infotexts_are_converted() -> None:
    text = ("x\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 1024x1024, First pass size: 512x512, "
            "Denoising strength: 0.7")
    p = params_from_infotext(text)
    assert (p.enable_hr, p.width, p.height, p.hr_resize_x, p.hr_resize_y) == (True, 512, 512, 1024, 1024)


def test_img2img_reads_variation_and_tiling_but_no_hires() -> None:
    from modules.generation.img2img_infotext import img2img_params_from_infotext

    p = img2img_params_from_infotext(_infotext(EVERYTHING), Img2ImgParams())
    assert (p.subseed, p.subseed_strength, p.tiling, p.denoising_strength) == (1122334455, 0.2, True, 0.45)


@pytest.mark.parametrize(("values", "size"), [
    ({"hr_scale": 2.0}, (1024, 1536)),
    ({"hr_scale": 1.3}, (664, 992)),  # 665.6 x 998.4: rounded down to multiples of 8
    ({"hr_resize_x": 1024}, (1024, 1536)),  # one side: the aspect kept
    ({"hr_resize_y": 1024}, (680, 1024)),
    ({"hr_resize_x": 1024, "hr_resize_y": 1024}, (1024, 1024)),  # both: covered, then cropped
])
def test_hires_size(values: dict[str, object], size: tuple[int, int]) -> None:
    assert hires_size(replace(Txt2ImgParams(width=512, height=768, enable_hr=True), **values)) == size


def test_second_pass_prompt_schedule_follows_a1111() -> None:
    """[a:b:N] counts steps from the first pass's start; fractions are offset by 1 for the second pass (the
    text before the switch holds through the switch step, 0-based, as in A1111)."""
    fraction = plan_prompts("[cat:dog:1.5]", "", 20, hires_steps=10)
    assert [fraction.texts_at(step)[0][0][0] for step in (0, 5, 6, 9)] == ["cat", "cat", "dog", "dog"]
    assert plan_prompts("[cat:dog:0.5]", "", 20, hires_steps=10).texts_at(0)[0][0][0] == "dog"
    steps = plan_prompts("[cat:dog:25]", "", 20, hires_steps=10)
    assert [steps.texts_at(step)[0][0][0] for step in (0, 5, 6)] == ["cat", "cat", "dog"]


@pytest.mark.parametrize("steps", [1, 2, 15, 20, 150])
@pytest.mark.parametrize("strength", [0.01, 0.3, 0.45, 0.5, 0.7, 0.999, 1.0])
def test_all_hires_steps_run_on_a_stretched_schedule(steps: int, strength: float) -> None:
    total, enter = hires_schedule(steps, strength)
    assert img2img_steps(total, enter) == steps
    assert total == min(1000, max(steps, int(steps / min(strength, 0.999))))  # A1111's stretch, capped
    assert hires_schedule(steps, 0.0) == (steps, 0.0) and img2img_steps(steps, 0.0) == 0
