"""Per-request VAE (override_settings.sd_vae) and what an `infotext` brings besides the fields: its VAE,
and <lora:…> tags pointed at local files by the recorded hashes, as A1111's API does."""

from __future__ import annotations

import base64
import io

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.api.helpers import SMALL, Served, png_text

V1 = "/sdapi/v1"


def _pixels(b64: str) -> np.ndarray:
    with Image.open(io.BytesIO(base64.b64decode(b64))) as image:
        return np.asarray(image.convert("RGB"))


@pytest.fixture
def client(api_server: Served) -> httpx.Client:
    with httpx.Client(base_url=api_server.url, timeout=120) as c:
        yield c


@pytest.fixture(scope="module")
def vae_file(api_server: Served) -> str:
    from tests.backend.test_vae import write_vae

    folder = api_server.data_dir / "models" / "VAE"
    folder.mkdir(parents=True, exist_ok=True)
    write_vae(folder / "other.safetensors")
    return "other.safetensors"


def test_override_settings_sd_vae_is_used_for_that_request_only(client: httpx.Client, api_server: Served,
                                                                vae_file: str) -> None:
    before = api_server.app.networks.vaes.selected
    r = client.post(f"{V1}/txt2img", json={"prompt": "x", "seed": 3, "override_settings": {"sd_vae": vae_file}, **SMALL})
    assert r.status_code == 200, r.text
    assert "VAE: other" in png_text(r.json()["images"][0])
    assert api_server.app.networks.vaes.selected == before
    plain = client.post(f"{V1}/txt2img", json={"prompt": "x", "seed": 3, **SMALL})
    assert "VAE:" not in png_text(plain.json()["images"][0])
    assert not np.array_equal(_pixels(plain.json()["images"][0]), _pixels(r.json()["images"][0])), \
        "the other VAE decoded the image, not only its name in the infotext"

    r = client.post(f"{V1}/txt2img", json={"prompt": "x", "override_settings": {"sd_vae": "missing.pt"}, **SMALL})
    assert r.status_code == 404 and "missing.pt" in r.json()["detail"]


def test_an_infotext_brings_its_vae_and_finds_loras_by_hash(client: httpx.Client, api_server: Served,
                                                            vae_file: str) -> None:
    from tests.backend.test_lora import _sd1_kohya

    loras = api_server.data_dir / "models" / "Lora"
    loras.mkdir(parents=True, exist_ok=True)
    _sd1_kohya(loras, "fox", seed=2)
    client.post(f"{V1}/refresh-loras")
    short = api_server.app.networks.loras.shorthash(next(f for f in api_server.app.networks.loras.files()
                                                         if f.name == "fox"))
    infotext = (f"a cat <lora:renamed_elsewhere:0.8>\nSteps: 2, Sampler: Euler, Seed: 9, Size: 64x64, "
                f'VAE: {vae_file}, Lora hashes: "renamed_elsewhere: {short}"')
    r = client.post(f"{V1}/txt2img", json={"infotext": infotext, "width": 64, "height": 64})
    assert r.status_code == 200, r.text
    text = png_text(r.json()["images"][0])
    assert text.startswith("a cat <lora:fox:0.8>") and "VAE: other" in text and "Seed: 9" in text
    assert f"fox: {short}" in text
    own = client.post(f"{V1}/txt2img", json={"infotext": infotext, "prompt": "a dog", "width": 64, "height": 64})
    assert png_text(own.json()["images"][0]).startswith("a dog")  # the request's own prompt wins
