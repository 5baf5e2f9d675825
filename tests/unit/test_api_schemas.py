"""The API request schema against A1111's fields and defaults, and in step with Txt2ImgParams."""

from __future__ import annotations

import dataclasses

import pytest

from modules.api.schemas import HIRES_FIELDS, REQUEST_FIELDS, StableDiffusionProcessingTxt2Img
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
                      "hr_scheduler", "hr_cfg"}  # hr_cfg: Forge's hires CFG scale


def test_request_fields_and_defaults_match_a1111() -> None:
    fields = StableDiffusionProcessingTxt2Img.model_fields
    assert set(fields) == set(A1111_DEFAULTS) | OTHER_A1111_FIELDS
    request = StableDiffusionProcessingTxt2Img()
    for name, default in A1111_DEFAULTS.items():
        assert getattr(request, name) == default, name


def test_every_txt2img_param_has_a_request_field_or_an_option() -> None:
    """Adding a field to Txt2ImgParams fails here until the API maps it (REQUEST_FIELDS or OPTION_FIELDS)."""
    params = {f.name for f in dataclasses.fields(Txt2ImgParams)}
    covered = set(REQUEST_FIELDS.values()) | set(generation_option_keys().values()) | set(HIRES_FIELDS.values())
    assert params == covered, f"not reachable from the API: {params - covered}; unknown: {covered - params}"
    assert set(REQUEST_FIELDS) | set(HIRES_FIELDS) <= set(StableDiffusionProcessingTxt2Img.model_fields)
    assert set(generation_option_keys()) <= set(OPTION_FIELDS)


def test_to_params_maps_every_field() -> None:
    request = StableDiffusionProcessingTxt2Img(
        prompt="p", negative_prompt="n", sampler_name="Euler a", scheduler="Karras", steps=7, cfg_scale=3.5, seed=11,
        width=72, height=80, n_iter=3, batch_size=2)
    params = request.to_params()
    expected = {"prompt": "p", "negative_prompt": "n", "sampler_name": "Euler a", "scheduler": "Karras", "steps": 7,
                "cfg_scale": 3.5, "seed": 11, "width": 72, "height": 80, "batch_count": 3, "batch_size": 2}
    assert {k: getattr(params, k) for k in expected} == expected
    params.validate()
    assert request.explicit_fields() == frozenset(expected)


def test_api_defaults_and_sampler_fallback() -> None:
    """The body's own translation only; infotext, option defaults, overrides and legacy sampler names are the
    request rules' (tests/unit/test_request_rules.py)."""
    params = StableDiffusionProcessingTxt2Img().to_params()
    assert (params.sampler_name, params.scheduler, params.steps) == ("Euler", "Automatic", 50)
    assert StableDiffusionProcessingTxt2Img().explicit_fields() == frozenset()
    request = StableDiffusionProcessingTxt2Img(sampler_index="DPM++ 2M Karras")
    assert request.to_params().sampler_name == "DPM++ 2M Karras"
    assert request.explicit_fields() == {"sampler_name"}
    assert "sampler_name" in request.door_fields() and "clip_skip" not in request.door_fields()


@pytest.mark.parametrize("field", ["restore_faces"])
def test_unsupported_features_are_refused_by_name(field: str) -> None:
    with pytest.raises(InvalidParams, match=field):
        StableDiffusionProcessingTxt2Img(**{field: True}).check_supported()
    StableDiffusionProcessingTxt2Img(**{field: False}).check_supported()


def test_hires_variation_and_tiling_fields_are_taken() -> None:
    request = StableDiffusionProcessingTxt2Img(
        enable_hr=True, hr_scale=1.5, hr_upscaler="Latent (nearest)", hr_second_pass_steps=5, hr_resize_x=0,
        denoising_strength=0.4, hr_sampler_name="Euler", hr_scheduler="Karras", hr_prompt="hp",
        hr_negative_prompt="hn", hr_cfg=4.5, subseed=9, subseed_strength=0.3, seed_resize_from_w=256, tiling=True)
    request.check_supported()
    params = request.to_params()
    assert (params.enable_hr, params.hr_scale, params.hr_upscaler, params.hr_second_pass_steps) == \
        (True, 1.5, "Latent (nearest)", 5)
    assert (params.denoising_strength, params.hr_sampler_name, params.hr_scheduler) == (0.4, "Euler", "Karras")
    assert (params.hr_prompt, params.hr_negative_prompt, params.hr_cfg_scale) == ("hp", "hn", 4.5)
    assert (params.subseed, params.subseed_strength, params.seed_resize_from_w, params.seed_resize_from_h) == \
        (9, 0.3, 256, 0)
    assert params.tiling is True
    assert {"enable_hr", "hr_cfg_scale", "subseed_strength", "tiling"} <= request.explicit_fields()
    defaults = StableDiffusionProcessingTxt2Img().to_params()
    assert (defaults.hr_upscaler, defaults.hr_sampler_name, defaults.hr_cfg_scale, defaults.tiling) == \
        ("Latent", "Use same sampler", None, False)
    with pytest.raises(InvalidParams, match="hr_checkpoint_name"):
        StableDiffusionProcessingTxt2Img(hr_checkpoint_name="other.safetensors").check_supported()


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


# A1111 v1.10.1 img2img request: the shared fields (txt2img's without hires fix and firstpass_image) plus
# img2img's own, with the API's defaults (compatibility reference §9.2)
TXT2IMG_ONLY = {"enable_hr", "firstphase_width", "firstphase_height", "hr_scale", "hr_upscaler", "hr_second_pass_steps",
                "hr_resize_x", "hr_resize_y", "hr_checkpoint_name", "hr_sampler_name", "hr_scheduler", "hr_prompt",
                "hr_negative_prompt", "firstpass_image", "hr_cfg"}
A1111_IMG2IMG_DEFAULTS = {
    "init_images": None, "resize_mode": 0, "denoising_strength": 0.75, "image_cfg_scale": None, "mask": None,
    "mask_blur_x": 4, "mask_blur_y": 4, "mask_blur": None, "mask_round": True, "inpainting_fill": 0,
    "inpaint_full_res": True, "inpaint_full_res_padding": 0, "inpainting_mask_invert": 0,
    "initial_noise_multiplier": None, "latent_mask": None, "include_init_images": False,
}


def test_img2img_request_fields_and_defaults_match_a1111() -> None:
    from modules.api.img2img_schemas import StableDiffusionProcessingImg2Img

    shared = (set(A1111_DEFAULTS) | OTHER_A1111_FIELDS) - TXT2IMG_ONLY
    assert set(StableDiffusionProcessingImg2Img.model_fields) == shared | set(A1111_IMG2IMG_DEFAULTS)
    request = StableDiffusionProcessingImg2Img()
    for name, default in {**A1111_DEFAULTS, **A1111_IMG2IMG_DEFAULTS}.items():
        if name not in TXT2IMG_ONLY:
            assert getattr(request, name) == default, name
    assert "include_init_images" not in request.echo() and request.echo()["init_images"] is None


def test_every_img2img_param_is_reachable_from_the_request() -> None:
    """Adding a field to Img2ImgParams fails here until the img2img request maps it."""
    from modules.api.img2img_schemas import IMAGE_FIELDS, IMG2IMG_FIELDS, StableDiffusionProcessingImg2Img
    from modules.generation.params import Img2ImgParams

    params = {f.name for f in dataclasses.fields(Img2ImgParams)}
    covered = (set(REQUEST_FIELDS.values()) | set(generation_option_keys().values()) | set(IMG2IMG_FIELDS.values())
               | set(IMAGE_FIELDS.values()) | {"initial_noise_multiplier"})
    assert params == covered, f"not reachable from the API: {params - covered}; unknown: {covered - params}"
    assert set(IMG2IMG_FIELDS) | set(IMAGE_FIELDS) <= set(StableDiffusionProcessingImg2Img.model_fields)


def test_img2img_to_params_maps_blur_invert_and_noise() -> None:
    from PIL import Image

    from modules.api.img2img_schemas import StableDiffusionProcessingImg2Img

    image, mask = Image.new("RGB", (8, 8)), Image.new("L", (8, 8))
    request = StableDiffusionProcessingImg2Img(prompt="p", steps=9, denoising_strength=0.3, mask_blur=7,
                                               inpainting_mask_invert=1, initial_noise_multiplier=0.8, width=64,
                                               height=64, resize_mode=2)
    params = request.to_img2img_params([image], mask)
    assert (params.prompt, params.steps, params.denoising_strength, params.resize_mode) == ("p", 9, 0.3, 2)
    assert (params.mask_blur_x, params.mask_blur_y, params.inpainting_mask_invert) == (7, 7, True)
    assert params.initial_noise_multiplier == 0.8 and params.init_images == (image,) and params.mask is mask
    assert (params.inpainting_fill, params.inpaint_full_res, params.inpaint_full_res_padding) == (0, True, 0)
    params.validate()
    assert StableDiffusionProcessingImg2Img().to_img2img_params([image], None).initial_noise_multiplier == 1.0
    with pytest.raises(InvalidParams, match="latent_mask"):
        StableDiffusionProcessingImg2Img(latent_mask="x").check_supported()
