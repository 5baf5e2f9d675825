"""A request that names no size is drawn at the size its checkpoint declares (modelspec.resolution: the
demo model's 64x64), as the web UI's fields do; a size the request or its infotext names always wins."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.api.helpers import Served, make_data_dir, png_text
from tests.tiny_models import declare_size

V1 = "/sdapi/v1"


@pytest.fixture(scope="module")
def api_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny-a says it was trained at 96x64, tiny-b at 64x128."""
    data = make_data_dir(tmp_path_factory.mktemp("sized"), ("tiny-a", "tiny-b"))
    declare_size(data / "models" / "Stable-diffusion" / "tiny-a.safetensors", "96x64")
    declare_size(data / "models" / "Stable-diffusion" / "tiny-b.safetensors", "64x128")
    return data


@pytest.fixture
def client(api_server: Served) -> httpx.Client:
    with httpx.Client(base_url=api_server.url, timeout=120) as c:
        yield c


def _size(b64: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(base64.b64decode(b64))) as image:
        return image.size


def _post(client: httpx.Client, route: str, body: dict) -> dict:
    r = client.post(f"{V1}/{route}", json={"prompt": "x", "steps": 2, "seed": 1, **body})
    assert r.status_code == 200, r.text
    return r.json()


def test_txt2img_without_a_size_uses_the_models_size(client: httpx.Client) -> None:
    body = _post(client, "txt2img", {})
    assert _size(body["images"][0]) == (96, 64)
    info = json.loads(body["info"])
    assert (info["width"], info["height"]) == (96, 64)
    assert "Size: 96x64" in png_text(body["images"][0])


@pytest.mark.parametrize(("request_size", "expected"), [
    ({"width": 64, "height": 64}, (64, 64)),
    ({"infotext": "a cat\nSteps: 2, Sampler: Euler, Seed: 5, Size: 64x96"}, (64, 96)),
])
def test_a_size_the_request_names_wins(client: httpx.Client, request_size: dict, expected: tuple[int, int]) -> None:
    assert _size(_post(client, "txt2img", request_size)["images"][0]) == expected


def test_a_checkpoint_override_brings_its_own_size(client: httpx.Client, api_server: Served) -> None:
    body = _post(client, "txt2img", {"override_settings": {"sd_model_checkpoint": "tiny-b"}})
    assert _size(body["images"][0]) == (64, 128)
    assert api_server.app.models.current_info.stem == "tiny-a"  # put back afterwards
    assert _size(_post(client, "txt2img", {})["images"][0]) == (96, 64)


def test_img2img_without_a_size_uses_the_models_size(client: httpx.Client) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 120), (200, 30, 30)).save(buffer, format="PNG")
    body = _post(client, "img2img", {"init_images": [base64.b64encode(buffer.getvalue()).decode()],
                                      "denoising_strength": 0.5})
    assert _size(body["images"][0]) == (96, 64)


def _wait_for(client: httpx.Client, job_id: str, ready: Callable[[dict], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        r = client.get(f"{V1}/progress", params={"id_task": job_id})
        if r.status_code == 200 and ready(r.json()["state"]):
            return
        assert time.monotonic() < deadline, f"{job_id} {what}"
        time.sleep(0.05)


def test_a_request_cancelled_while_it_waits_reports_the_size_it_would_have_drawn(client: httpx.Client) -> None:
    answers: dict[str, httpx.Response] = {}

    def post(name: str, body: dict) -> threading.Thread:
        worker = threading.Thread(target=lambda: answers.update(
            {name: client.post(f"{V1}/txt2img", json={"prompt": "x", "seed": 1, "force_task_id": name, **body})}))
        worker.start()
        return worker

    busy = post("busy", {"width": 64, "height": 64, "steps": 150, "n_iter": 20})
    try:
        _wait_for(client, "busy", lambda s: s["sampling_step"] > 0, "did not start")
        for name, body, expected in (("plain", {}, (96, 64)),
                                     ("other", {"override_settings": {"sd_model_checkpoint": "tiny-b"}}, (64, 128)),
                                     ("named", {"width": 128, "height": 64}, (128, 64))):
            waiting = post(name, {"steps": 2, **body})
            _wait_for(client, name, lambda s: s["status"] == "queued", "was not queued")
            client.post(f"{V1}/interrupt", params={"id_task": name})
            waiting.join(60)
            assert answers[name].status_code == 200, answers[name].text
            info = json.loads(answers[name].json()["info"])
            assert info["interrupted"] is True and answers[name].json()["images"] == []
            assert (info["width"], info["height"]) == expected, name
    finally:
        client.post(f"{V1}/interrupt", params={"id_task": "busy"})
        busy.join(60)
    assert answers["busy"].status_code == 200
