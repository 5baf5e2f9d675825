"""↙️: an infotext pasted into the prompt box fills the fields and picks the recorded VAE."""

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
    assert by_id["setting_sd_vae"] == "mse.safetensors" and sd1_app.networks.vaes.selected == "mse.safetensors"
    assert "read from the prompt box" in re.sub(r"<[^>]+>", "", by_id["txt2img_message"])


def test_paste_with_empty_prompt_or_missing_vae_explains(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    out = handler(demo, "txt2img_paste")(**_values(demo, prompt=""))
    assert "Paste generation parameters" in str(out[component(demo, "txt2img_message")])
    text = "a cat\nSteps: 4, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 64x64, VAE: gone.safetensors"
    out = handler(demo, "txt2img_paste")(**_values(demo, prompt=text))
    assert "gone.safetensors" in str(out[component(demo, "txt2img_message")])
    assert out[component(demo, "txt2img_prompt")] == "a cat"
