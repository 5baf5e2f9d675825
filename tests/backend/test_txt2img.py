"""txt2img end to end on tiny seeded checkpoints loaded through the app's own loader, on CPU."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from PIL import Image

from modules.errors import CheckpointLoadError, InvalidParams, ModelNotFound
from modules.generation.params import Txt2ImgParams
from modules.generation.txt2img import run_txt2img
from modules.samplers.registry import sampler_names

SMALL = {"width": 64, "height": 64, "steps": 3}


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


@pytest.mark.parametrize("sampler", sampler_names())
def test_each_sampler_runs_and_repeats(sd1_app, sampler: str) -> None:  # noqa: ANN001
    params = Txt2ImgParams(prompt="a red circle", sampler_name=sampler, seed=42, **SMALL)
    first = run_txt2img(sd1_app, params)
    second = run_txt2img(sd1_app, params)
    assert len(first.images) == 1 and first.images[0].size == (64, 64)
    assert np.array_equal(_pixels(first.images[0]), _pixels(second.images[0])), "same seed must give the same pixels"
    assert _pixels(first.images[0]).std() > 0


def test_different_seeds_differ_and_batch_seeds_increment(sd1_app) -> None:  # noqa: ANN001
    result = run_txt2img(sd1_app, Txt2ImgParams(prompt="x", seed=100, batch_size=2, batch_count=2, **SMALL))
    assert result.seeds == [100, 101, 102, 103]
    assert not np.array_equal(_pixels(result.images[0]), _pixels(result.images[1]))
    single = run_txt2img(sd1_app, Txt2ImgParams(prompt="x", seed=102, **SMALL))
    # image i of a batch is the image its own seed gives alone
    assert np.abs(_pixels(single.images[0]) - _pixels(result.images[2])).max() <= 2


def test_random_seed_is_resolved_and_written(sd1_app) -> None:  # noqa: ANN001
    result = run_txt2img(sd1_app, Txt2ImgParams(prompt="x", seed=-1, **SMALL))
    assert 0 <= result.seeds[0] < 2**32
    assert f"Seed: {result.seeds[0]}," in result.infotexts[0]


def test_clip_skip_changes_the_image(sd1_app) -> None:  # noqa: ANN001
    base = Txt2ImgParams(prompt="a blue square", seed=7, **SMALL)
    one = run_txt2img(sd1_app, base)
    two = run_txt2img(sd1_app, replace(base, clip_skip=2))
    assert not np.array_equal(_pixels(one.images[0]), _pixels(two.images[0]))
    assert "Clip skip: 2" in two.infotexts[0]


def test_noise_schedule_option_samples_any_model_on_the_zero_terminal_snr_schedule(sd1_app) -> None:  # noqa: ANN001
    base = Txt2ImgParams(prompt="a blue square", seed=7, **SMALL)
    plain = run_txt2img(sd1_app, base)
    sd1_app.options.update({"sd_noise_schedule": "Zero Terminal SNR"})
    try:
        rescaled = run_txt2img(sd1_app, base)
        assert len(rescaled.images) == 1 and not rescaled.warnings  # not left out as NaN
        assert _pixels(rescaled.images[0]).std() > 0
        assert "Schedule type: SGM Uniform" in rescaled.infotexts[0]  # Automatic avoids Karras here
        assert "Noise Schedule: Zero Terminal SNR" in rescaled.infotexts[0]  # A1111's key and value
        assert "Noise Schedule" not in plain.infotexts[0]
        assert not np.array_equal(_pixels(plain.images[0]), _pixels(rescaled.images[0]))
        with pytest.raises(InvalidParams, match="sd_noise_schedule"):
            sd1_app.options.update({"sd_noise_schedule": "Cosine"})
    finally:
        sd1_app.options.update({"sd_noise_schedule": "Default"})
    assert np.array_equal(_pixels(run_txt2img(sd1_app, base).images[0]), _pixels(plain.images[0]))


def test_images_are_saved_with_infotext_and_grid(sd1_app) -> None:  # noqa: ANN001
    from modules.generation.infotext import params_from_infotext
    from modules.generation.outputs import read_png_infotext

    params = Txt2ImgParams(prompt="a green triangle", negative_prompt="blurry", seed=5, batch_size=2, **SMALL)
    result = run_txt2img(sd1_app, params)
    day = date.today().isoformat()
    folder = sd1_app.settings.outputs_dir / "txt2img-images" / day
    assert [p.name for p in result.paths] == ["00000-5.png", "00001-6.png"]
    assert all(p.parent == folder and p.is_file() for p in result.paths)
    text = read_png_infotext(result.paths[1])
    assert text == result.infotexts[1]
    # batch size is not part of the infotext; "Automatic" is written as the sampler's default schedule
    assert params_from_infotext(text) == replace(params, seed=6, batch_size=1, scheduler="Karras")
    assert "Model: tiny-sd1" in text and "Size: 64x64" in text
    assert result.grid_path is not None and result.grid_path.parent == sd1_app.settings.outputs_dir / "txt2img-grids" / day


def test_infotext_round_trip_reproduces_the_image(sd1_app) -> None:  # noqa: ANN001
    from modules.generation.infotext import params_from_infotext

    first = run_txt2img(sd1_app, Txt2ImgParams(prompt="a circle", sampler_name="Euler a", cfg_scale=5.5, seed=9, **SMALL))
    again = run_txt2img(sd1_app, params_from_infotext(first.infotexts[0]))
    assert np.array_equal(_pixels(first.images[0]), _pixels(again.images[0]))


def test_checkpoint_switch_changes_the_model(make_app) -> None:  # noqa: ANN001
    app = make_app(("sd1", "sd2"))
    titles = app.refresh_models()
    params = Txt2ImgParams(prompt="a circle", seed=3, **SMALL)
    app.models.load(titles[0])
    a = run_txt2img(app, params)
    app.models.load(titles[1])
    assert app.models.current.arch == "sd2"
    b = run_txt2img(app, params)
    assert "Model: tiny-sd2" in b.infotexts[0]
    assert not np.array_equal(_pixels(a.images[0]), _pixels(b.images[0]))


def test_sdxl_generates(make_app) -> None:  # noqa: ANN001
    app = make_app(("sdxl",))
    result = run_txt2img(app, Txt2ImgParams(prompt="a circle", seed=1, sampler_name="Euler", **SMALL))
    assert app.models.current.arch == "sdxl" and result.images[0].size == (64, 64)


def test_corrupt_checkpoint_gives_clear_error_and_keeps_the_model(sd1_app) -> None:  # noqa: ANN001
    bad = sd1_app.settings.checkpoint_dir / "broken.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    sd1_app.refresh_models()
    before = sd1_app.models.current
    with pytest.raises(CheckpointLoadError, match="broken.safetensors"):
        sd1_app.models.load("broken")
    assert sd1_app.models.current is before
    assert run_txt2img(sd1_app, Txt2ImgParams(prompt="still works", seed=1, **SMALL)).images


def test_no_model_and_bad_params_give_user_errors(make_app) -> None:  # noqa: ANN001
    app = make_app((), load=False)
    with pytest.raises(ModelNotFound, match="Stable-diffusion"):
        run_txt2img(app, Txt2ImgParams(**SMALL))
    with pytest.raises(InvalidParams, match="multiple of 8"):
        run_txt2img(app, Txt2ImgParams(width=65))


def test_interrupt_keeps_finished_images(sd1_app) -> None:  # noqa: ANN001
    from modules.generation.denoise import HookPoint, Hooks

    hooks = Hooks()
    calls = {"n": 0}

    def interrupt_in_second_batch(state) -> None:  # noqa: ANN001
        calls["n"] += 1
        if calls["n"] == 5:  # 3 steps per batch: step 2 of the second batch
            sd1_app.jobs.interrupt()

    hooks.add(HookPoint.POST_STEP, interrupt_in_second_batch)
    result = run_txt2img(sd1_app, Txt2ImgParams(prompt="x", seed=1, batch_count=3, **SMALL), hooks=hooks)
    assert result.interrupted and len(result.images) == 1 and result.paths[0].is_file()
    assert "Interrupted" in result.message


def test_skip_drops_only_the_current_batch(sd1_app) -> None:  # noqa: ANN001
    from modules.generation.denoise import HookPoint, Hooks

    hooks = Hooks()
    calls = {"n": 0}

    def skip_first_batch(state) -> None:  # noqa: ANN001
        calls["n"] += 1
        if calls["n"] == 1:
            sd1_app.jobs.skip()

    hooks.add(HookPoint.POST_STEP, skip_first_batch)
    result = run_txt2img(sd1_app, Txt2ImgParams(prompt="x", seed=10, batch_count=2, **SMALL), hooks=hooks)
    assert result.seeds == [11] and not result.interrupted


@pytest.mark.parametrize("schedule", ["Automatic", "Karras", "Exponential", "SGM Uniform"])
def test_every_sampler_runs_on_a_zero_terminal_snr_model(make_app, schedule: str) -> None:  # noqa: ANN001
    """The rescaled schedule starts at sigma ~4519; with Karras sigmas the first timesteps repeat, which
    must not shift the sampler's step count. At 3 steps the sigmas fall by a factor of up to 3,900 in one
    step, where diffusers' own DPM2 a gave NaN latents on some CPUs (modules/samplers/ancestral_sigmas.py)."""
    from modules.samplers.registry import sampler_table, schedule_ignored

    app = make_app(("sd1",))
    app.options.update({"sd_noise_schedule": "Zero Terminal SNR"})
    table = sampler_table(app.registry)
    for sampler in sampler_names():
        if schedule != "Automatic" and schedule_ignored(sampler, schedule, table):
            continue  # it runs on its own timesteps (the message says so); the Automatic case runs it
        result = run_txt2img(app, Txt2ImgParams(prompt="x", seed=1, sampler_name=sampler, scheduler=schedule,
                                                **SMALL))
        assert len(result.images) == 1 and not result.warnings, (sampler, result.message)
        assert _pixels(result.images[0]).std() > 0, sampler


def test_an_image_that_comes_out_as_nan_is_left_out_and_the_user_is_told(sd1_app) -> None:  # noqa: ANN001
    """A sampler or a half-precision UNet that breaks down gives NaN latents, which decode to a black
    picture: that image is neither saved nor shown, the others are, and the message says what to try."""
    from modules.generation.denoise import HookPoint, Hooks

    hooks = Hooks()
    calls = {"n": 0}

    def break_the_second_image(state) -> None:  # noqa: ANN001
        calls["n"] += 1
        if calls["n"] == 1:  # the first step of the first batch
            state.latents[1] = float("nan")

    hooks.add(HookPoint.POST_STEP, break_the_second_image)
    result = run_txt2img(sd1_app, Txt2ImgParams(prompt="x", seed=20, batch_size=2, batch_count=2, **SMALL),
                         hooks=hooks)
    assert result.seeds == [20, 22, 23] and len(result.images) == len(result.paths) == 3
    assert [p.name.split("-")[1] for p in result.paths] == ["20.png", "22.png", "23.png"]
    assert all(_pixels(image).std() > 0 for image in result.images)
    assert len(result.warnings) == 1 and result.warnings[0] in result.message
    assert "1 image(s) (seed: 21) came out as NaN" in result.message and "--precision fp32" in result.message
    assert "decoded again" not in result.message  # NaN latents are not the VAE's fault


def test_a_checkpoint_with_nan_weights_is_named_as_the_cause(make_app) -> None:  # noqa: ANN001
    """A broken merge or a damaged download can leave NaN in a checkpoint's weights; then every image is NaN
    and no sampler or step count helps: the message names the file and the first spoilt tensor instead."""
    import torch

    from modules.generation.pipeline import _broken_images_warning
    from tests.tiny_models import spoil_weights

    app = make_app(("sd1",), load=False)
    spoil_weights(app.settings.checkpoint_dir / "tiny-sd1.safetensors")
    app.load_default_model()
    model = app.models.current
    assert model.nonfinite_weights() == ["unet.conv_out.weight"]
    result = run_txt2img(app, Txt2ImgParams(prompt="x", seed=7, batch_size=2, **SMALL))
    assert result.images == [] and result.paths == [] and result.seeds == []
    assert not list((app.settings.outputs_dir).rglob("*.png"))
    assert len(result.warnings) == 1 and result.warnings[0] in result.message
    warning = result.warnings[0]
    assert "2 image(s) (seed: 7, 8) came out as NaN" in warning and "tiny-sd1.safetensors" in warning
    assert "1 of its weight tensors as loaded in float32 (the first: unet.conv_out.weight)" in warning
    assert "download it again" in warning and "--precision fp32" not in warning and "sampler" not in warning
    model.dtype = torch.float16  # loaded in half precision, weights may also have overflowed: say so
    params = Txt2ImgParams(prompt="x", **SMALL)
    assert "--precision fp32" in _broken_images_warning(model, "tiny-sd1.safetensors", params, [1])


def test_euler_a_draws_on_the_schedule_type_its_infotext_names(sd1_app) -> None:  # noqa: ANN001
    """diffusers' Euler a has no Karras or Exponential schedule: it used to run evenly spaced steps whatever
    the choice, while the infotext said Karras. Now each choice gives its own picture, the same every time."""
    from modules.generation.img2img import run_img2img
    from modules.generation.params import Img2ImgParams

    def draw(schedule: str) -> tuple[np.ndarray, str]:
        result = run_txt2img(sd1_app, Txt2ImgParams(prompt="x", seed=3, sampler_name="Euler a", scheduler=schedule,
                                                    **{**SMALL, "steps": 6}))
        return _pixels(result.images[0]), result.infotexts[0]

    pictures = {schedule: draw(schedule) for schedule in ("Uniform", "Karras", "Exponential")}
    assert "Sampler: Euler a, Schedule type: Karras," in pictures["Karras"][1]
    for one, other in (("Uniform", "Karras"), ("Uniform", "Exponential"), ("Karras", "Exponential")):
        assert np.abs(pictures[one][0] - pictures[other][0]).mean() > 1, (one, other)
    assert np.array_equal(draw("Karras")[0], pictures["Karras"][0])
    init = Image.fromarray(pictures["Karras"][0].astype(np.uint8))
    redrawn = run_img2img(sd1_app, Img2ImgParams(prompt="x", init_images=(init,), seed=3, sampler_name="Euler a",
                                                 scheduler="Karras", denoising_strength=0.5, **SMALL))
    assert len(redrawn.images) == 1 and not redrawn.warnings


def test_a_schedule_type_the_sampler_cannot_take_is_named_in_the_message(sd1_app) -> None:  # noqa: ANN001
    ignored = run_txt2img(sd1_app, Txt2ImgParams(prompt="x", seed=2, sampler_name="DDIM", scheduler="Karras", **SMALL))
    plain = run_txt2img(sd1_app, Txt2ImgParams(prompt="x", seed=2, sampler_name="DDIM", **SMALL))
    assert "DDIM has no Karras schedule type in this program" in ignored.message
    assert np.array_equal(_pixels(ignored.images[0]), _pixels(plain.images[0]))  # what the message says
    assert "schedule type in this program" not in plain.message
