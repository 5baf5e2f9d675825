"""↙️: an infotext pasted into the prompt box fills the fields, and its VAE goes to the tab's Override settings."""

from __future__ import annotations

import re

import gradio as gr

from modules.generation.params import Txt2ImgParams
from modules.generation.txt2img import run_txt2img
from modules.ui.blocks import build_ui
from tests.backend.test_vae import write_vae
from tests.ui.test_blocks import component, handler

SMALL = {"width": 64, "height": 64, "steps": 3}


def _values(demo: gr.Blocks, **overrides: object) -> dict[str, object]:
    ids = {"prompt": "txt2img_prompt", "negative_prompt": "txt2img_neg_prompt", "steps": "txt2img_steps",
           "width": "txt2img_width", "height": "txt2img_height", "seed": "txt2img_seed",
           "sampler_name": "txt2img_sampling", "scheduler": "txt2img_scheduler", "cfg_scale": "txt2img_cfg_scale",
           "batch_count": "txt2img_batch_count", "batch_size": "txt2img_batch_size", "clip_skip": "txt2img_clip_skip",
           "emphasis": "txt2img_emphasis"}
    values = {name: component(demo, elem_id).value for name, elem_id in ids.items()}
    values.update(overrides)
    return values


def test_paste_restores_parameters_and_vae(sd1_app) -> None:  # noqa: ANN001
    write_vae(sd1_app.settings.vae_path / "mse.safetensors", seed=12)
    sd1_app.networks.vaes.select("mse.safetensors")
    params = Txt2ImgParams(prompt="a (red) fox", negative_prompt="blurry", sampler_name="Euler a", cfg_scale=5.5,
                           seed=77, clip_skip=2, **SMALL)
    text = run_txt2img(sd1_app, params).infotexts[0]
    assert "VAE: mse.safetensors" in text
    sd1_app.networks.vaes.select("None")

    demo = build_ui(sd1_app)
    out = handler(demo, "txt2img_paste")(**_values(demo, prompt=text, batch_count=3))
    by_id = {getattr(c, "elem_id", None): v for c, v in out.items()}
    assert by_id["txt2img_prompt"] == "a (red) fox" and by_id["txt2img_neg_prompt"] == "blurry"
    assert (by_id["txt2img_sampling"], by_id["txt2img_cfg_scale"], by_id["txt2img_seed"]) == ("Euler a", 5.5, 77)
    assert (by_id["txt2img_clip_skip"], by_id["txt2img_steps"], by_id["txt2img_width"]) == (2, 3, 64)
    assert by_id["txt2img_batch_count"] == 3, "fields the infotext does not record keep their values"
    # the recorded VAE is this tab's override (the next generations here use it); the app's SD VAE stays
    assert "setting_sd_vae" not in by_id and sd1_app.networks.vaes.selected == "None"
    assert by_id["txt2img_override_settings"] == gr.update(choices=["VAE: mse.safetensors"],
                                                           value=["VAE: mse.safetensors"], visible=True)
    assert "read from the prompt box" in re.sub(r"<[^>]+>", "", by_id["txt2img_message"])


def test_paste_with_empty_prompt_or_missing_vae_explains(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    out = handler(demo, "txt2img_paste")(**_values(demo, prompt=""))
    assert "Paste generation parameters" in str(out[component(demo, "txt2img_message")])
    text = "a cat\nSteps: 4, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 64x64, VAE: gone.safetensors"
    out = handler(demo, "txt2img_paste")(**_values(demo, prompt=text))
    assert "gone.safetensors" in str(out[component(demo, "txt2img_message")])
    assert out[component(demo, "txt2img_prompt")] == "a cat"


def test_a_pasted_setting_goes_to_override_settings_and_the_next_generations_use_it(sd1_app) -> None:  # noqa: ANN001
    from tests.ui.test_blocks import run_generate, text_of

    demo = build_ui(sd1_app)
    box = component(demo, "txt2img_override_settings")
    assert box.visible is False, "hidden until an infotext brings a setting"
    text = "a cat\nSteps: 3, Sampler: Euler, CFG scale: 7, Seed: 5, Size: 64x64, Noise Schedule: Zero Terminal SNR"
    out = handler(demo, "txt2img_paste")(**_values(demo, prompt=text))
    label = "Noise Schedule: Zero Terminal SNR"
    assert out[box] == gr.update(choices=[label], value=[label], visible=True)
    assert label in text_of(out[component(demo, "txt2img_message")])

    values = _values(demo, prompt="a cat", seed=5, **SMALL)
    values.pop("sampler_name")
    final, _ = run_generate(demo, **values, sampler_name="Euler", override_settings=[label])
    infotext = final[component(demo, "txt2img_infotext")]
    assert label in infotext, "the tiny model is not zero-terminal-SNR: the override made it so"
    gen_info = next(v for v in final.values() if isinstance(v, dict) and "paths" in v)
    sent = handler(demo, "txt2img_send_to_img2img")(gen_info, 0)
    assert sent[component(demo, "img2img_override_settings")] == gr.update(choices=[label], value=[label], visible=True)
    final, _ = run_generate(demo, **values, sampler_name="Euler", override_settings=[])
    assert "Noise Schedule" not in final[component(demo, "txt2img_infotext")], "removed from the box: not used"
    assert sd1_app.options.get("sd_noise_schedule") == "Default", "the setting itself never changed"

    final, _ = run_generate(demo, **values, override_settings=["Model hash: 0123456789"])
    assert "Model hash: 0123456789" in text_of(final[component(demo, "txt2img_message")])

    out = handler(demo, "txt2img_paste")(**_values(demo, prompt="a dog\nSteps: 3, Seed: 5, Size: 64x64"))
    assert out[box] == gr.update(choices=[], value=[], visible=False), "a paste without settings clears the box"


def test_no_override_when_the_loaded_model_already_samples_that_way(sd1_app) -> None:  # noqa: ANN001
    from modules.generation.paste import read_infotext

    text = "a cat\nSteps: 3, Sampler: Euler, Seed: 5, Size: 64x64, Noise Schedule: Zero Terminal SNR"
    assert [o.label for o in read_infotext(sd1_app, text).overrides] == ["Noise Schedule: Zero Terminal SNR"]
    sd1_app.options.update({"sd_noise_schedule": "Zero Terminal SNR"})
    try:
        assert read_infotext(sd1_app, text).overrides == []
    finally:
        sd1_app.options.update({"sd_noise_schedule": "Default"})
    model = sd1_app.models.current
    model.scheduler_config = {**model.scheduler_config, "rescale_betas_zero_snr": True}  # as a ztsnr-marked file
    assert read_infotext(sd1_app, text).overrides == [], "its own infotext brings nothing to override"
