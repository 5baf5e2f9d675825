"""POST /sdapi/v1/img2img over real HTTP: A1111's fields and response shape, inpainting, and every bad input as a 4xx."""

from __future__ import annotations

import base64
import io
import json

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.api.helpers import SMALL, Served, png_text

V1 = "/sdapi/v1"


@pytest.fixture
def client(api_server: Served) -> httpx.Client:
    with httpx.Client(base_url=api_server.url, timeout=120) as c:
        yield c


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _b64(image: Image.Image) -> str:
    return base64.b64encode(_png(image)).decode()


def _init() -> Image.Image:
    return Image.fromarray(np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8))


def _mask(size: tuple[int, int] = (64, 64)) -> Image.Image:
    mask = Image.new("L", size, 0)
    mask.paste(255, (0, 0, size[0] // 2, size[1]))
    return mask


def _decode(b64: str) -> np.ndarray:
    with Image.open(io.BytesIO(base64.b64decode(b64))) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def test_img2img_answers_like_txt2img_with_denoising_in_the_infotext(client: httpx.Client) -> None:
    body = {"prompt": "a fox", "seed": 5, "batch_size": 2, "sampler_name": "Euler", "denoising_strength": 0.5,
            "init_images": ["data:image/png;base64," + _b64(_init())], **SMALL}
    r = client.post(f"{V1}/img2img", json=body)
    assert r.status_code == 200, r.text
    payload = r.json()
    assert set(payload) == {"images", "parameters", "info"} and len(payload["images"]) == 2  # no grid (A1111)
    texts = [png_text(b64) for b64 in payload["images"]]
    assert all("Denoising strength: 0.5," in t for t in texts) and "Seed: 6," in texts[1]
    info = json.loads(payload["info"])
    assert info["denoising_strength"] == 0.5 and info["all_seeds"] == [5, 6] and info["infotexts"] == texts
    params = payload["parameters"]
    assert params["init_images"] is None and params["mask"] is None and "include_init_images" not in params
    assert params["denoising_strength"] == 0.5 and params["inpainting_fill"] == 0 and params["inpaint_full_res"]
    again = client.post(f"{V1}/img2img", json={**body, "include_init_images": True}).json()
    assert again["parameters"]["init_images"] == body["init_images"]
    assert again["images"] == payload["images"], "a fixed seed repeats"


def test_inpainting_keeps_the_unmasked_pixels_and_resizes_a_mask_of_another_size(client: httpx.Client) -> None:
    body = {"prompt": "x", "seed": 2, "denoising_strength": 0.9, "init_images": [_b64(_init())],
            "mask": _b64(_mask((32, 16))), "mask_blur": 2, "inpaint_full_res": False, "inpainting_fill": 1, **SMALL}
    r = client.post(f"{V1}/img2img", json=body)
    assert r.status_code == 200, r.text
    out = _decode(r.json()["images"][0])
    init = np.asarray(_init(), dtype=np.int16)
    assert out.shape == (64, 64, 3) and np.array_equal(out[:, 44:], init[:, 44:])
    assert not np.array_equal(out[:, :20], init[:, :20])
    text = png_text(r.json()["images"][0])
    assert "Mask blur: 2" in text and "Inpaint area" not in text
    inverted = client.post(f"{V1}/img2img", json={**body, "inpainting_mask_invert": 1})
    out = _decode(inverted.json()["images"][0])
    assert np.array_equal(out[:, :20], init[:, :20]) and "Mask mode: Inpaint not masked" in png_text(
        inverted.json()["images"][0])
    assert not np.array_equal(out[:, 44:], init[:, 44:]), "the unmasked part is repainted instead"


PNG = _png(Image.new("RGB", (64, 64), "red"))
BAD_REQUESTS = [
    ({"init_images": ["!!!not base64!!!"]}, 400, "init_images[0]"),
    ({"init_images": [base64.b64encode(PNG[: len(PNG) // 2]).decode()]}, 400, "init_images[0]"),
    ({"init_images": [base64.b64encode(b"plain text").decode()]}, 400, "init_images[0]"),
    ({"init_images": ["https://example.com/cat.png"]}, 400, "init_images[0]"),
    ({"init_images": ["/etc/passwd"]}, 400, "init_images[0]"),
    ({"mask": "%%%"}, 400, "'mask'"),
    ({"init_images": "not a list"}, 422, "init_images"),
    ({"init_images": []}, 422, "init image"),
    ({"init_images": None}, 422, "init image"),
    ({"denoising_strength": 1.5}, 422, "Denoising strength"),
    ({"denoising_strength": -0.5}, 422, "Denoising strength"),
    ({"width": 65}, 422, "width"),
    ({"resize_mode": 7}, 422, "Resize mode"),
    ({"inpainting_fill": 9}, 422, "inpainting_fill"),
    ({"mask_blur": 500}, 422, "Mask blur"),
    ({"script_name": "loopback"}, 422, "no script 'loopback' for img2img"),
    ({"alwayson_scripts": {"ControlNet": {"args": []}}}, 422, "alwayson_scripts"),
    ({"latent_mask": "abc"}, 422, "latent_mask"),
    ({"sampler_name": "Nope"}, 422, "Unknown sampler"),
]


@pytest.mark.parametrize(("change", "status", "named"), BAD_REQUESTS)
def test_bad_img2img_requests_get_a_4xx_naming_the_field(client: httpx.Client, api_server: Served, change: dict,
                                                         status: int, named: str) -> None:
    body = {"prompt": "x", "init_images": [base64.b64encode(PNG).decode()], **SMALL, **change}
    r = client.post(f"{V1}/img2img", json=body)
    assert r.status_code == status, r.text
    payload = r.json()
    assert named in (payload.get("message") or payload.get("detail")), payload
    assert len(r.content) < 5000, "the answer does not echo the input"
    assert not api_server.app.jobs.busy


def test_a_failing_img2img_job_answers_500_and_the_queue_goes_on(client: httpx.Client, api_server: Served,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import modules.generation.img2img as img2img

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("VAE on fire")

    body = {"prompt": "x", "seed": 1, "init_images": [_b64(_init())], **SMALL}
    with monkeypatch.context() as patch:
        patch.setattr(img2img, "img2img", broken)
        r = client.post(f"{V1}/img2img", json=body)
        assert r.status_code == 500 and "VAE on fire" in r.json()["detail"]
    assert client.post(f"{V1}/img2img", json=body).status_code == 200
    assert client.post(f"{V1}/txt2img", json={"prompt": "x", "seed": 1, **SMALL}).status_code == 200
    assert not api_server.app.jobs.busy


def test_img2img_is_in_the_schema(client: httpx.Client) -> None:
    from modules.api.img2img_schemas import StableDiffusionProcessingImg2Img

    schema = client.get("/openapi.json").json()
    assert "/sdapi/v1/img2img" in schema["paths"]
    props = schema["components"]["schemas"]["StableDiffusionProcessingImg2Img"]["properties"]
    assert set(props) == set(StableDiffusionProcessingImg2Img.model_fields)
    assert props["denoising_strength"]["default"] == 0.75 and props["inpainting_fill"]["default"] == 0
