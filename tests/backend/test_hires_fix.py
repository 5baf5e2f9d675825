"""The hires fix end to end on the tiny SD1 checkpoint and the demo model.

The tiny VAE only halves the size and has attention in its middle block, so a 128x128 decode is slow
(64x64 latents, 4096 tokens): the tiny tests upscale 64x64 by 1.25; the demo model's test doubles."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from modules.errors import InvalidParams
from modules.generation.infotext import parse_infotext
from modules.generation.params import Txt2ImgParams
from modules.generation.txt2img import run_txt2img, submit_txt2img

SMALL = {"width": 64, "height": 64, "steps": 3}
HIRES = {**SMALL, "enable_hr": True, "hr_scale": 1.25, "denoising_strength": 0.5}


@pytest.mark.parametrize("upscaler", ["Latent (bicubic antialiased)", "Lanczos"])
def test_hires_fix_upscales_and_writes_the_first_pass_size(sd1_app, upscaler: str) -> None:  # noqa: ANN001
    params = Txt2ImgParams(prompt="a red circle", seed=3, hr_upscaler=upscaler, **HIRES)
    result = run_txt2img(sd1_app, params)
    assert result.images[0].size == (80, 80)
    info = parse_infotext(result.infotexts[0])
    assert info["Size"] == "64x64"  # A1111: the first pass's size
    assert info["Hires upscale"] == "1.25" and info["Hires upscaler"] == upscaler
    assert info["Denoising strength"] == "0.5"
    assert np.asarray(result.images[0]).std() > 0


def test_resize_to_a_size_crops_to_it_and_hires_steps_count_in_progress(sd1_app) -> None:  # noqa: ANN001
    params = Txt2ImgParams(prompt="x", seed=1, hr_resize_x=96, hr_resize_y=64, hr_second_pass_steps=4,
                           hr_sampler_name="Euler", hr_cfg_scale=5.0, **HIRES)
    job = submit_txt2img(sd1_app, params)
    result = job.result()
    assert result.images[0].size == (96, 64)
    # both passes on one bar: 3 first-pass steps + the 4 hires steps, all run (A1111)
    assert job.progress.total_steps == 3 + 4 and job.progress.step == 7
    info = parse_infotext(result.infotexts[0])
    assert info["Hires resize"] == "96x64" and "Hires upscale" not in info
    assert info["Hires steps"] == "4" and info["Hires sampler"] == "Euler" and info["Hires CFG Scale"] == "5"
    keys = list(info)
    order = ["Denoising strength", "Hires sampler", "Hires resize", "Hires steps", "Hires upscaler"]
    assert [keys.index(k) for k in order] == sorted(keys.index(k) for k in order)


def test_hires_prompt_changes_only_the_second_pass(sd1_app) -> None:  # noqa: ANN001
    base = Txt2ImgParams(prompt="a red circle", seed=5, **HIRES)
    same = run_txt2img(sd1_app, base)
    other = run_txt2img(sd1_app, replace(base, hr_prompt="a blue square"))
    assert not np.array_equal(np.asarray(same.images[0]), np.asarray(other.images[0]))
    assert parse_infotext(other.infotexts[0])["Hires prompt"] == "a blue square"
    assert "hires prompt's extra network tags" not in other.message


def test_hires_prompt_networks_are_said_to_be_ignored(sd1_app) -> None:  # noqa: ANN001
    params = Txt2ImgParams(prompt="a red circle", seed=5, hr_prompt="a red circle <lora:detail:0.5>",
                           **{**HIRES, "denoising_strength": 0.0})
    result = run_txt2img(sd1_app, params)
    assert "<lora:detail>" in result.message and "were not applied" in result.message


def test_bad_hires_values_are_refused_with_a_message(sd1_app) -> None:  # noqa: ANN001
    with pytest.raises(InvalidParams, match="Hires upscale by"):
        Txt2ImgParams(**{**HIRES, "hr_scale": 9}).validate()
    with pytest.raises(InvalidParams, match="hires fix would draw at 8192x8192"):
        Txt2ImgParams(**{**HIRES, "width": 2048, "height": 2048, "hr_scale": 4}).validate()
    # both resize sizes: the cover size (before the crop) is checked before anything runs
    with pytest.raises(InvalidParams, match="hires fix would draw at 32768x4096"):
        Txt2ImgParams(**{**HIRES, "width": 512, "height": 64, "hr_resize_x": 64, "hr_resize_y": 4096}).validate()
    with pytest.raises(InvalidParams, match="Unknown hires upscaler 'Bogus'.*Latent.*Lanczos"):
        run_txt2img(sd1_app, Txt2ImgParams(prompt="x", hr_upscaler="Bogus", **HIRES))
    with pytest.raises(InvalidParams, match="hires prompt has 40,000 characters"):
        Txt2ImgParams(**HIRES, hr_prompt="x" * 40_000).validate()
    Txt2ImgParams(hr_scale=9).validate()  # the hires fields are not checked while it is off


def test_interrupt_during_the_hires_pass_keeps_the_first_pass(sd1_app) -> None:  # noqa: ANN001
    from modules.generation.denoise import HookPoint, Hooks

    def stop_in_second_pass(state) -> None:  # noqa: ANN001
        if state.latents.shape[-1] > 32:  # the tiny VAE halves: 64 px -> 32 latents; hires: 40
            job.progress.interrupted = True

    hooks = Hooks().add(HookPoint.POST_STEP, stop_in_second_pass)
    job = submit_txt2img(sd1_app, Txt2ImgParams(prompt="x", seed=2, **HIRES), hooks=hooks)
    result = job.result()
    assert result.interrupted and result.images[0].size == (64, 64)
    assert "Hires" not in result.infotexts[0] and "Denoising strength" not in result.infotexts[0]
    assert "first pass size" in result.message


DEMO = Path(__file__).resolve().parents[2] / "models" / "Stable-diffusion" / "demo-shapes.safetensors"


@pytest.mark.skipif(not DEMO.is_file() and os.environ.get("CI") != "true", reason=f"no demo model at {DEMO}")
def test_demo_model_keeps_the_composition_through_the_hires_fix(tmp_path: Path) -> None:
    """The demo model's 64x64 picture upscaled to 128x128 and denoised again: the analyzer reads the same
    background, shape colour and position before and after."""
    from modules.app import build_app
    from modules.demo.analyzer import analyze
    from modules.settings import Settings

    app = build_app(Settings(data_dir=tmp_path, ckpt=DEMO, device="cpu", precision="fp32"))
    app.load_default_model()
    params = Txt2ImgParams(prompt="a red circle on the left on a blue background", seed=1, steps=12, width=64,
                           height=64)
    first = run_txt2img(app, params).images[0]
    hires = run_txt2img(app, replace(params, enable_hr=True, hr_upscaler="Latent (bicubic antialiased)",
                                     denoising_strength=0.45)).images[0]
    assert hires.size == (128, 128)
    before, after = analyze(first), analyze(hires)
    assert before.shape is not None and after.shape is not None
    assert (after.background, after.shape.colour, after.shape.position) == \
        (before.background, before.shape.colour, before.shape.position)
