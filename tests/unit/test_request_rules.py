"""The request rules of modules/generation/resolve.py (no model needed): option defaults, infotext reuse,
override_settings, styles, the per-request checkpoint and VAE checks, and when the size is left to the model.
The API body is translated by modules/api/generate.py's to_request, as the server does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modules.api.generate import to_request
from modules.api.schemas import StableDiffusionProcessingTxt2Img
from modules.errors import InvalidParams, ModelNotFound
from modules.generation.params import Txt2ImgParams
from modules.generation.request import GenerationRequest
from modules.generation.resolve import Resolved, check, resolve
from modules.messages import msg

ZTSNR_INFOTEXT = "a cat\nSteps: 3, Sampler: Euler, Seed: 1, Noise Schedule: Zero Terminal SNR"


@pytest.fixture
def app(make_app):  # noqa: ANN001, ANN201
    app = make_app((), load=False)
    styles = 'name,prompt,negative_prompt\nInk,"{prompt}, ink",blurry\n'
    (Path(app.settings.data_dir) / "styles.csv").write_text(styles, encoding="utf-8")
    return app


def api(app: Any, **body: Any) -> Resolved:
    req = StableDiffusionProcessingTxt2Img(**body)
    return resolve(app, to_request(req, "txt2img", req.to_params()))


def test_option_defaults_fill_the_fields_nobody_set(app: Any) -> None:
    app.options.update({"CLIP_stop_at_last_layers": 3, "emphasis": "No norm", "default_sampler": "Euler a"})
    unset = resolve(app, GenerationRequest("txt2img", Txt2ImgParams()))
    assert (unset.params.clip_skip, unset.params.emphasis, unset.params.sampler_name) == (3, "No norm", "Euler a")
    mine = resolve(app, GenerationRequest("txt2img", Txt2ImgParams(clip_skip=1), explicit=frozenset({"clip_skip"})))
    assert mine.params.clip_skip == 1
    # the API's own default sampler (Euler, A1111's sampler_index) is not replaced by the option
    assert (api(app).params.sampler_name, api(app).params.clip_skip) == ("Euler", 3)


def test_override_settings_and_legacy_sampler_names(app: Any) -> None:
    resolved = api(app, sampler_index="DPM++ 2M Karras", override_settings={"CLIP_stop_at_last_layers": 2})
    assert (resolved.params.sampler_name, resolved.params.scheduler, resolved.params.clip_skip) == \
        ("DPM++ 2M", "Karras", 2)
    with pytest.raises(InvalidParams, match="sd_noise_schedule"):
        api(app, override_settings={"sd_noise_schedule": "Cosine"})


def test_infotext_fills_only_fields_the_request_did_not_set(app: Any) -> None:
    text = "a cat\nNegative prompt: dog\nSteps: 9, Sampler: Euler a, CFG scale: 4, Seed: 77, Size: 96x64, Clip skip: 2"
    params = api(app, infotext=text, steps=3).params
    assert (params.prompt, params.negative_prompt, params.steps, params.seed) == ("a cat", "dog", 3, 77)
    assert (params.width, params.height, params.cfg_scale, params.clip_skip) == (96, 64, 4.0, 2)
    assert params.sampler_name == "Euler a"


def test_img2img_infotext_fills_only_fields_the_request_did_not_set(app: Any) -> None:
    from PIL import Image

    from modules.api.img2img_schemas import StableDiffusionProcessingImg2Img

    text = ("a cat\nSteps: 9, Sampler: Euler a, CFG scale: 4, Seed: 77, Size: 64x64, Denoising strength: 0.35, "
            "Mask blur: 6, Inpaint area: Only masked, Masked area padding: 16, Masked content: latent noise")
    req = StableDiffusionProcessingImg2Img(infotext=text, inpaint_full_res_padding=8)
    params = resolve(app, to_request(req, "img2img", req.to_img2img_params([Image.new("RGB", (8, 8))], None))).params
    assert (params.prompt, params.steps, params.denoising_strength) == ("a cat", 9, 0.35)
    assert (params.mask_blur_x, params.mask_blur_y, params.inpainting_fill) == (6, 6, 2)
    assert (params.inpaint_full_res, params.inpaint_full_res_padding) == (True, 8)


def test_the_size_is_left_to_the_model_only_when_nothing_names_one(app: Any) -> None:
    assert api(app, prompt="x").size_from_model
    assert api(app, infotext="a cat\nSteps: 9, Sampler: Euler, Seed: 7").size_from_model
    assert not api(app, width=512).size_from_model  # even A1111's own default
    assert not api(app, height=64).size_from_model
    assert not api(app, infotext="a cat\nSteps: 9, Seed: 7, Size: 96x64").size_from_model


def test_an_infotext_brings_its_settings_unless_override_settings_sets_them(app: Any) -> None:
    assert api(app, infotext=ZTSNR_INFOTEXT).options == {"sd_noise_schedule": "Zero Terminal SNR"}
    both = api(app, infotext=ZTSNR_INFOTEXT, override_settings={"sd_noise_schedule": "Default"})
    assert both.options == {"sd_noise_schedule": "Default"}
    assert api(app, prompt="x").options == {}


def test_styles_merge_in_order_and_an_unknown_one_is_named_with_the_list(app: Any) -> None:
    assert api(app, prompt="a cat", styles=["Ink"]).params.prompt == "a cat, ink"
    with pytest.raises(InvalidParams) as raised:
        check(app, GenerationRequest("txt2img", Txt2ImgParams(prompt="a cat"), styles=("Ink", "Nope")))
    assert str(raised.value) == msg("unknown_style", name="Nope", styles="'Ink'")
    assert "sdapi" not in str(raised.value)


def test_checkpoint_and_vae_of_a_request_are_checked_by_name(app: Any) -> None:
    with pytest.raises(ModelNotFound, match="missing"):
        api(app, override_settings={"sd_model_checkpoint": "missing"})
    with pytest.raises(ModelNotFound, match="Automatic, None"):
        api(app, override_settings={"sd_vae": "missing.pt"})
    assert api(app, override_settings={"sd_vae": "None"}).vae == "None"
    assert app.networks.vaes.selected == "Automatic"
