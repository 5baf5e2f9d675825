"""The API request schema against A1111's fields and defaults, and in step with Txt2ImgParams."""

from __future__ import annotations

import dataclasses

import pytest

from modules.api.schemas import REQUEST_FIELDS, StableDiffusionProcessingTxt2Img
from modules.errors import InvalidParams
from modules.generation.params import Txt2ImgParams
from modules.options import OPTION_FIELDS, Options, generation_option_keys

# A1111 v1.10.1 txt2img request fields and defaults (compatibility reference §9.1)
A1111_DEFAULTS = {
    "prompt": "", "negative_prompt": "", "styles": None, "seed": -1, "subseed": -1, "subseed_strength": 0,
    "seed_resize_from_h": -1, "seed_resize_from_w": -1, "sampler_name": None, "sampler_index": "Euler",
    "scheduler": None, "batch_size": 1, "n_iter": 1, "steps": 50, "cfg_scale": 7.0, "width": 512, "height": 512,
    "restore_faces": None, "tiling": None, "do_not_save_samples": False, "do_not_save_grid": False,
    "denoising_strength": 0.75, "override_settings": None, "override_settings_restore_afterwards": True,
    "disable_extra_networks": False, "firstpass_image": None, "enable_hr": False, "firstphase_width": 0,
    "firstphase_height": 0, "hr_scale": 2.0, "hr_second_pass_steps": 0, "hr_resize_x": 0, "hr_resize_y": 0,
    "hr_prompt": "", "hr_negative_prompt": "", "force_task_id": None, "script_name": None, "script_args": [],
    "send_images": True, "save_images": False, "alwayson_scripts": {}, "infotext": None,
}
OTHER_A1111_FIELDS = {"eta", "s_min_uncond", "s_churn", "s_tmax", "s_tmin", "s_noise", "refiner_checkpoint",
                      "refiner_switch_at", "comments", "hr_upscaler", "hr_checkpoint_name", "hr_sampler_name",
                      "hr_scheduler"}


def test_request_fields_and_defaults_match_a1111() -> None:
    fields = StableDiffusionProcessingTxt2Img.model_fields
    assert set(fields) == set(A1111_DEFAULTS) | OTHER_A1111_FIELDS
    request = StableDiffusionProcessingTxt2Img()
    for name, default in A1111_DEFAULTS.items():
        assert getattr(request, name) == default, name


def test_every_txt2img_param_has_a_request_field_or_an_option() -> None:
    """Adding a field to Txt2ImgParams fails here until the API maps it (REQUEST_FIELDS or OPTION_FIELDS)."""
    params = {f.name for f in dataclasses.fields(Txt2ImgParams)}
    covered = set(REQUEST_FIELDS.values()) | set(generation_option_keys().values())
    assert params == covered, f"not reachable from the API: {params - covered}; unknown: {covered - params}"
    assert set(REQUEST_FIELDS) <= set(StableDiffusionProcessingTxt2Img.model_fields)
    assert set(generation_option_keys()) <= set(OPTION_FIELDS)


def test_to_params_maps_every_field() -> None:
    request = StableDiffusionProcessingTxt2Img(
        prompt="p", negative_prompt="n", sampler_name="Euler a", scheduler="Karras", steps=7, cfg_scale=3.5, seed=11,
        width=72, height=80, n_iter=3, batch_size=2, override_settings={"CLIP_stop_at_last_layers": 2})
    params = request.to_params()
    expected = {"prompt": "p", "negative_prompt": "n", "sampler_name": "Euler a", "scheduler": "Karras", "steps": 7,
                "cfg_scale": 3.5, "seed": 11, "width": 72, "height": 80, "batch_count": 3, "batch_size": 2,
                "clip_skip": 2}
    assert {k: getattr(params, k) for k in expected} == expected
    params.validate()


def test_api_defaults_sampler_fallback_and_legacy_names() -> None:
    params = StableDiffusionProcessingTxt2Img().to_params()
    assert (params.sampler_name, params.scheduler, params.steps) == ("Euler", "Automatic", 50)
    params = StableDiffusionProcessingTxt2Img(sampler_index="DPM++ 2M Karras").to_params()
    assert (params.sampler_name, params.scheduler) == ("DPM++ 2M", "Karras")
    assert StableDiffusionProcessingTxt2Img().to_params({"clip_skip": 3}).clip_skip == 3


def test_infotext_fills_only_fields_the_request_did_not_set() -> None:
    text = "a cat\nNegative prompt: dog\nSteps: 9, Sampler: Euler a, CFG scale: 4, Seed: 77, Size: 96x64, Clip skip: 2"
    params = StableDiffusionProcessingTxt2Img(infotext=text, steps=3).to_params()
    assert (params.prompt, params.negative_prompt, params.steps, params.seed) == ("a cat", "dog", 3, 77)
    assert (params.width, params.height, params.cfg_scale, params.clip_skip) == (96, 64, 4.0, 2)
    assert params.sampler_name == "Euler a"


@pytest.mark.parametrize("field", ["enable_hr", "restore_faces", "tiling"])
def test_unsupported_features_are_refused_by_name(field: str) -> None:
    with pytest.raises(InvalidParams, match=field):
        StableDiffusionProcessingTxt2Img(**{field: True}).check_supported()
    StableDiffusionProcessingTxt2Img(**{field: False}).check_supported()


def test_options_check_values_with_the_params_rules() -> None:
    options = Options()
    assert options.as_dict()["CLIP_stop_at_last_layers"] == 1 and options.as_dict()["sd_vae"] == "Automatic"
    assert options.update({"CLIP_stop_at_last_layers": 2.0, "some_ui_setting": 5}) == ["some_ui_setting"]
    assert options.param_defaults()["clip_skip"] == 2
    for bad in ({"CLIP_stop_at_last_layers": 13}, {"CLIP_stop_at_last_layers": "2"},
                {"CLIP_stop_at_last_layers": True}, {"sd_vae": "other.safetensors"}):
        with pytest.raises(InvalidParams, match=next(iter(bad))):
            options.update(bad)
    assert options.get("CLIP_stop_at_last_layers") == 2
