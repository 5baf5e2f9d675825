"""A1111's hires fix, variation seed and tiling fields over real HTTP against a --nowebui server (tiny model)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from tests.api.helpers import SMALL, Served, png_text

V1 = "/sdapi/v1"


@pytest.fixture
def client(api_server: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server.url, timeout=120) as c:
        yield c


def test_a1111_hires_fields_are_accepted_and_recorded(client: httpx.Client) -> None:
    body = {**SMALL, "prompt": "a red fox", "seed": 4, "enable_hr": True, "hr_scale": 1.25,
            "hr_upscaler": "Latent (nearest)", "hr_second_pass_steps": 2, "denoising_strength": 0.5,
            "hr_sampler_name": "Euler", "hr_scheduler": "Uniform", "hr_prompt": "a blue fox",
            "hr_negative_prompt": "blurry", "hr_cfg": 4, "hr_resize_x": 0, "hr_resize_y": 0,
            "firstphase_width": 0, "firstphase_height": 0, "hr_checkpoint_name": "Use same checkpoint",
            "subseed": 9, "subseed_strength": 0.25, "seed_resize_from_h": -1, "seed_resize_from_w": -1,
            "tiling": False}
    r = client.post(f"{V1}/txt2img", json=body)
    assert r.status_code == 200, r.text
    images = r.json()["images"]
    with Image.open(io.BytesIO(base64.b64decode(images[0]))) as image:
        assert image.size == (80, 80)
    text = png_text(images[0])
    for part in ("Size: 64x64", "Variation seed: 9", "Variation seed strength: 0.25", "Denoising strength: 0.5",
                 "Hires sampler: Euler", "Hires prompt: a blue fox", "Hires negative prompt: blurry",
                 "Hires schedule type: Uniform", "Hires upscale: 1.25", "Hires steps: 2",
                 "Hires upscaler: Latent (nearest)", "Hires CFG Scale: 4"):
        assert part in text, part
    info = json.loads(r.json()["info"])
    assert (info["subseed"], info["all_subseeds"], info["subseed_strength"]) == (9, [9], 0.25)
    assert info["denoising_strength"] == 0.5 and info["extra_generation_params"]["Hires upscale"] == 1.25


def test_tiling_and_seed_resize_are_accepted(client: httpx.Client) -> None:
    r = client.post(f"{V1}/txt2img", json={**SMALL, "prompt": "x", "seed": 1, "tiling": True,
                                           "seed_resize_from_w": 128, "seed_resize_from_h": 96})
    assert r.status_code == 200, r.text
    text = png_text(r.json()["images"][0])
    assert "Seed resize from: 128x96" in text and "Tiling: True" in text
    info = json.loads(r.json()["info"])
    assert (info["seed_resize_from_w"], info["seed_resize_from_h"]) == (128, 96)


@pytest.mark.parametrize(("body", "named"), [
    ({"enable_hr": True, "hr_scale": 10}, "Hires upscale by"),
    ({"enable_hr": True, "hr_sampler_name": "Nope"}, "Unknown sampler 'Nope'"),
    ({"enable_hr": True, "hr_checkpoint_name": "other.safetensors"}, "hr_checkpoint_name"),
    ({"subseed_strength": 2}, "Variation strength"),
])
def test_bad_hires_and_variation_values_are_422(client: httpx.Client, body: dict, named: str) -> None:
    r = client.post(f"{V1}/txt2img", json={**SMALL, **body})
    assert r.status_code == 422, r.text
    payload = r.json()
    assert named in (payload.get("message") or payload.get("detail")), payload
