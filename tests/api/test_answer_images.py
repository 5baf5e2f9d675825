"""What txt2img/img2img answers hold (A1111: no grid unless save_images and return_grid), and that a request's
decoded images do not outlive its answer, and are bounded in size before any of them is decoded."""

from __future__ import annotations

import base64
import gc
import io
import json
import weakref
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.api.helpers import SMALL, Served, png_text
from tests.image_files import png_declaring

V1 = "/sdapi/v1"


@pytest.fixture
def client(api_server: Served) -> httpx.Client:
    with httpx.Client(base_url=api_server.url, timeout=120) as c:
        yield c


def _b64(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _pixels(b64: str) -> np.ndarray:
    with Image.open(io.BytesIO(base64.b64decode(b64))) as image:
        return np.asarray(image.convert("RGB"))


def _init_b64() -> str:
    return _b64(Image.fromarray(np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)))


@pytest.mark.parametrize("route", ["txt2img", "img2img"])
def test_a_batch_answers_its_images_without_a_grid_unless_saving(client: httpx.Client, route: str) -> None:
    body: dict[str, Any] = {"prompt": "a fox", "seed": 5, "batch_size": 2, **SMALL}
    if route == "img2img":
        body["init_images"] = [_init_b64()]
    r = client.post(f"{V1}/{route}", json=body)
    assert r.status_code == 200, r.text
    images, info = r.json()["images"], json.loads(r.json()["info"])
    assert len(images) == 2, "save_images is false: no grid, as A1111"
    assert info["index_of_first_image"] == 0 and info["all_seeds"] == [5, 6]
    assert info["infotexts"] == [png_text(b64) for b64 in images]
    assert "Seed: 5," in info["infotexts"][0] and "Seed: 6," in info["infotexts"][1]
    # images[0] is "the image" for clients such as webuiapi: the same seed gives the same picture
    single = client.post(f"{V1}/{route}", json={**body, "batch_size": 1}).json()["images"]
    assert len(single) == 1
    first, second, alone = (_pixels(b64).astype(np.int16) for b64 in (images[0], images[1], single[0]))
    assert first.shape == alone.shape and np.abs(first - alone).max() <= 2, "batched math may differ by a rounding"
    assert np.abs(second - alone).mean() > 10, "another seed's picture is another picture"


def test_with_save_images_the_grid_comes_first_unless_return_grid_is_off(client: httpx.Client) -> None:
    body = {"prompt": "a fox", "seed": 5, "batch_size": 2, "save_images": True, **SMALL}
    assert client.get(f"{V1}/options").json()["return_grid"] is True  # A1111's default
    r = client.post(f"{V1}/txt2img", json=body)
    assert r.status_code == 200, r.text
    images, info = r.json()["images"], json.loads(r.json()["info"])
    assert len(images) == 3 and info["index_of_first_image"] == 1 and info["all_seeds"] == [5, 6]
    assert _pixels(images[0]).shape == (64, 128, 3), "the grid of the two 64x64 images comes first"
    assert info["infotexts"] == [png_text(b64) for b64 in images]
    # one image makes no grid
    assert len(client.post(f"{V1}/txt2img", json={**body, "batch_size": 1}).json()["images"]) == 1
    # override_settings turns it off for one request
    off = client.post(f"{V1}/txt2img", json={**body, "override_settings": {"return_grid": False}}).json()
    assert len(off["images"]) == 2 and json.loads(off["info"])["index_of_first_image"] == 0
    assert len(json.loads(off["info"])["infotexts"]) == 2
    bad = client.post(f"{V1}/txt2img", json={**body, "override_settings": {"return_grid": "maybe"}})
    assert bad.status_code == 422 and "return_grid" in bad.text
    # and the option for every request
    assert client.post(f"{V1}/options", json={"return_grid": False}).status_code == 200
    try:
        assert client.get(f"{V1}/options").json()["return_grid"] is False
        assert len(client.post(f"{V1}/txt2img", json=body).json()["images"]) == 2
    finally:
        assert client.post(f"{V1}/options", json={"return_grid": True}).status_code == 200


def test_img2img_images_are_freed_once_answered(client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """Decoded init images and mask, the results and the grid of a finished request are no longer referenced
    by anything (finished jobs stay listed for /progress without them). Before, each answered request kept
    its decoded inputs: ~1 GB per request for 16 images of 8192x8192."""
    from modules.generation import img2img as img2img_module

    alive: list[weakref.ref[Image.Image]] = []
    run = img2img_module.img2img

    def recording_run(app: Any, params: Any, *args: Any, **kwargs: Any) -> Any:
        result = run(app, params, *args, **kwargs)
        made = [*params.init_images, params.mask, *result.images, result.grid]
        alive.extend(weakref.ref(image) for image in made if image is not None)
        return result

    monkeypatch.setattr(img2img_module, "img2img", recording_run)
    init = _b64(Image.new("L", (256, 256), 128))  # larger ones are freed the same way
    mask = _b64(Image.new("L", (256, 256), 255))
    for n in range(2):
        r = client.post(f"{V1}/img2img", json={"prompt": "x", "seed": n, "batch_size": 2, "save_images": True,
                                               "init_images": [init] * 2, "mask": mask,
                                               "force_task_id": f"freed-{n}", **SMALL})
        assert r.status_code == 200, r.text
        assert len(r.json()["images"]) == 3
        assert "Mask blur: 4" in json.loads(r.json()["info"])["infotexts"][1], "info still knows the mask"
        gc.collect()
        assert len(alive) == 6 * (n + 1), "2 init images + mask + 2 results + grid per request"
        assert [ref for ref in alive if ref() is not None] == [], f"request {n}: decoded images outlived the answer"
        state = client.get(f"{V1}/progress", params={"id_task": f"freed-{n}"}).json()["state"]
        assert state["status"] == "done", "the finished job is still there for /progress"


def test_a_request_s_images_are_bounded_together_before_any_is_decoded(client: httpx.Client) -> None:
    """Header-only PNGs: decoding one would fail (400 damaged), so a 413 shows the sizes were checked first."""
    def header(width: int, height: int) -> str:
        return base64.b64encode(png_declaring(width, height)).decode()

    body = {"prompt": "x", **SMALL}
    # the reported case: 16 images of 8192x8192, each allowed alone
    r = client.post(f"{V1}/img2img", json={**body, "init_images": [header(8192, 8192)] * 16})
    assert r.status_code == 413, r.text
    detail = r.json()["detail"]
    assert "1073.7 million pixels" in detail and "the limit is 67.1 million per request" in detail
    assert "Send fewer or smaller images" in detail
    # the mask counts too
    r = client.post(f"{V1}/img2img", json={**body, "init_images": [header(4096, 4096)] * 4, "mask": header(64, 64)})
    assert r.status_code == 413, r.text
    # normal use passes the bound (and then fails on decoding these header-only files, as it should)
    for images in ([header(2048, 2048)] * 8, [header(4096, 4096)] * 4, [header(8192, 8192)]):
        r = client.post(f"{V1}/img2img", json={**body, "init_images": images})
        assert r.status_code == 400 and "damaged or incomplete" in r.json()["detail"], r.text
