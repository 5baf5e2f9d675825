"""POST /sdapi/v1/extra-single-image and /extra-batch-images with tiny upscaler models in the data folder's
models/ESRGAN and models/RealESRGAN; GET /sdapi/v1/upscalers lists them."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import httpx
import pytest

from tests.api.helpers import Served, make_data_dir, running_server
from tests.unit.test_upscaler_models import picture, rrdb_state, save, srvgg_state


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = make_data_dir(tmp_path_factory.mktemp("extras"), ("tiny-a",))
    save(rrdb_state(), data / "models" / "ESRGAN" / "4x_tiny.pth")
    save(srvgg_state(), data / "models" / "RealESRGAN" / "realesr-general-x4v3.pth", wrap="params")
    (data / "models" / "ESRGAN" / "broken.pth").write_bytes(b"not a model")
    with running_server(data, "--nowebui") as server:
        yield server


def b64(image) -> str:  # noqa: ANN001
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def unb64(text: str):  # noqa: ANN201
    from PIL import Image

    return Image.open(io.BytesIO(base64.b64decode(text)))


def post(served: Served, path: str, body: dict) -> httpx.Response:
    return httpx.post(f"{served.url}/sdapi/v1/{path}", json=body, timeout=120)


def test_upscalers_lists_the_model_files(served: Served) -> None:
    items = {i["name"]: i for i in httpx.get(f"{served.url}/sdapi/v1/upscalers", timeout=30).json()}
    assert {"None", "Lanczos", "Nearest", "4x_tiny", "R-ESRGAN General 4xV3", "broken"} <= set(items)
    assert items["4x_tiny"]["model_path"] == str(served.data_dir / "models" / "ESRGAN" / "4x_tiny.pth")
    assert items["R-ESRGAN General 4xV3"]["scale"] == 4


def test_single_image_by_a_model_says_what_was_done(served: Served) -> None:
    answer = post(served, "extra-single-image", {"image": b64(picture(32, 24)), "upscaler_1": "4x_tiny",
                                                 "upscaling_resize": 2})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert unb64(body["image"]).size == (64, 48)
    assert body["html_info"] == "Postprocess upscale by: 2, Postprocess upscaler: 4x_tiny"
    assert not (served.data_dir / "outputs" / "extras-images").exists()  # the API does not save (A1111)


def test_scale_to_a_size_with_crop_and_a_second_upscaler(served: Served) -> None:
    body = post(served, "extra-single-image", {
        "image": b64(picture(32, 24)), "resize_mode": 1, "upscaling_resize_w": 80, "upscaling_resize_h": 48,
        "upscaling_crop": True, "upscaler_1": "R-ESRGAN General 4xV3", "upscaler_2": "Nearest",
        "extras_upscaler_2_visibility": 0.5}).json()
    assert "image" in body, body
    assert unb64(body["image"]).size == (80, 48)
    assert body["html_info"] == ("Postprocess upscale to: 80x48, Postprocess crop to: 80x48, Postprocess upscaler: "
                                 "R-ESRGAN General 4xV3, Postprocess upscaler 2: Nearest")


def test_batch_images(served: Served) -> None:
    answer = post(served, "extra-batch-images", {
        "imageList": [{"data": b64(picture(16, 16)), "name": "a.png"}, {"data": b64(picture(24, 8)), "name": "b.png"}],
        "upscaler_1": "Lanczos", "upscaling_resize": 3})
    assert answer.status_code == 200, answer.text
    assert [unb64(i).size for i in answer.json()["images"]] == [(48, 48), (72, 24)]


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"upscaler_1": "No such"}, 422, "Unknown upscaler 'No such'"),
    ({"upscaler_1": "broken"}, 422, "broken.pth"),
    ({"gfpgan_visibility": 0.5}, 400, "Face restoration"),
    ({"image": "%%%"}, 400, "image"),
    ({"upscaling_resize": 9}, 422, "upscaling_resize"),
])
def test_bad_requests_are_answered_with_a_message(served: Served, body: dict, status: int, words: str) -> None:
    answer = post(served, "extra-single-image", {"image": b64(picture(8, 8)), **body})
    assert answer.status_code == status, answer.text
    assert words in answer.text
