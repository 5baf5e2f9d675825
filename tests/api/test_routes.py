"""The /sdapi/v1 routes over real HTTP (httpx) against a --nowebui server on loopback."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.api.helpers import SMALL, Served, png_text
from tests.image_files import png_declaring

V1 = "/sdapi/v1"


@pytest.fixture
def client(api_server: Served) -> httpx.Client:
    with httpx.Client(base_url=api_server.url, timeout=120) as c:
        yield c


def outputs(served: Served) -> list[Path]:
    return sorted((served.data_dir / "outputs").rglob("*.png"))


def test_txt2img_returns_the_images_with_infotext_like_a1111(client: httpx.Client, api_server: Served) -> None:
    before = outputs(api_server)
    r = client.post(f"{V1}/txt2img", json={"prompt": "a red fox", "negative_prompt": "blurry", "seed": 5,
                                           "batch_size": 2, "sampler_name": "Euler a", **SMALL})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"images", "parameters", "info"}
    assert len(body["images"]) == 2, "each image and no grid: save_images is false (A1111)"
    texts = [png_text(b64) for b64 in body["images"]]
    assert "Seed: 5," in texts[0] and "Seed: 6," in texts[1]
    assert all(t.startswith("a red fox\nNegative prompt: blurry\nSteps: 2, Sampler: Euler a,") for t in texts)
    info = json.loads(body["info"])
    assert info["all_seeds"] == [5, 6] and info["seed"] == 5 and info["index_of_first_image"] == 0
    assert info["infotexts"] == texts and info["sd_model_name"] == "tiny-a" and info["sampler_name"] == "Euler a"
    assert info["warnings"] == []
    assert body["parameters"]["prompt"] == "a red fox" and body["parameters"]["sampler_index"] == "Euler"
    with Image.open(io.BytesIO(base64.b64decode(body["images"][0]))) as image:
        assert image.size == (64, 64)
    assert outputs(api_server) == before, "API images are not saved unless save_images is true"


def test_a1111_defaults_legacy_names_and_saving(client: httpx.Client, api_server: Served) -> None:
    r = client.post(f"{V1}/txt2img", json={"prompt": "x", "seed": 1, "width": 64, "height": 64, "steps": 2,
                                           "sampler_name": "DPM++ 2M Karras", "save_images": True,
                                           "send_images": False})
    assert r.status_code == 200, r.text
    assert r.json()["images"] is None
    info = json.loads(r.json()["info"])
    assert info["sampler_name"] == "DPM++ 2M" and info["extra_generation_params"]["Schedule type"] == "Karras"
    day = date.today().isoformat()
    saved = sorted((api_server.data_dir / "outputs" / "txt2img-images" / day).glob("*-1.png"))
    assert saved and "Seed: 1," in Image.open(saved[-1]).text["parameters"]
    # no sampler at all: A1111's sampler_index default (Euler)
    r = client.post(f"{V1}/txt2img", json={"prompt": "x", "seed": 2, **SMALL})
    assert json.loads(r.json()["info"])["sampler_name"] == "Euler"


def test_model_and_list_routes_have_a1111_shapes(client: httpx.Client, api_server: Served) -> None:
    import torch
    from safetensors.torch import save_file

    data = api_server.data_dir
    (data / "models" / "Lora").mkdir(parents=True, exist_ok=True)
    save_file({"w": torch.zeros(2)}, str(data / "models" / "Lora" / "ink.safetensors"), {"ss_output_name": "ink-style"})
    save_file({"emb": torch.zeros(3, 768)}, str(data / "embeddings" / "bad-hands.safetensors"))
    (data / "models" / "VAE" / "vae-ft.safetensors").write_bytes(b"x")
    (data / "models" / "hypernetworks" / "h1.pt").write_bytes(b"x")
    (data / "styles.csv").write_text('name,prompt,negative_prompt\n"Ink","{prompt}, ink","blurry"\n', encoding="utf-8")

    models = client.get(f"{V1}/sd-models").json()
    assert [m["model_name"] for m in models] == ["tiny-a", "tiny-b"]
    assert set(models[0]) == {"title", "model_name", "hash", "sha256", "filename", "config"}
    assert models[0]["title"] == f"tiny-a.safetensors [{models[0]['hash']}]" and len(models[0]["hash"]) == 10
    samplers = client.get(f"{V1}/samplers").json()
    assert {"name": "Euler a", "aliases": ["k_euler_a", "k_euler_ancestral"], "options": {}} in samplers
    schedulers = client.get(f"{V1}/schedulers").json()
    assert {s["label"] for s in schedulers} >= {"Automatic", "Karras", "Exponential"}
    rho = {s["label"]: s["default_rho"] for s in schedulers}
    assert rho["Karras"] == 7.0 and rho["Exponential"] == rho["Uniform"] == -1, "A1111's values"
    assert client.get(f"{V1}/upscalers").json()[:3] == [
        {"name": name, "model_name": None, "model_path": None, "model_url": None, "scale": 4.0}
        for name in ("None", "Lanczos", "Nearest")], "A1111's non-model upscalers first"
    assert client.get(f"{V1}/loras").json() == [{"name": "ink", "alias": "ink-style", "path": str(
        data / "models" / "Lora" / "ink.safetensors"), "metadata": {"ss_output_name": "ink-style"}}]
    assert client.post(f"{V1}/refresh-embeddings").status_code == 200
    embeddings = client.get(f"{V1}/embeddings").json()
    assert "bad-hands" not in embeddings["loaded"] and "bad-hands" in embeddings["skipped"], "768 wide, model is 64"
    assert client.get(f"{V1}/sd-vae").json() == [{"model_name": "vae-ft.safetensors",
                                                  "filename": str(data / "models" / "VAE" / "vae-ft.safetensors")}]
    assert client.get(f"{V1}/hypernetworks").json()[0]["name"] == "h1"
    assert client.get(f"{V1}/prompt-styles").json() == [{"name": "Ink", "prompt": "{prompt}, ink",
                                                         "negative_prompt": "blurry"}]
    assert client.get(f"{V1}/memory").json()["ram"]["total"] > 0
    for route in ("refresh-checkpoints", "refresh-loras"):
        assert client.post(f"{V1}/{route}").status_code == 200

    r = client.post(f"{V1}/txt2img", json={"prompt": "cat", "styles": ["Ink"], "seed": 3, **SMALL})
    assert png_text(r.json()["images"][0]).startswith("cat, ink\nNegative prompt: blurry\n")
    r = client.post(f"{V1}/txt2img", json={"prompt": "cat", "styles": ["Nope"], **SMALL})
    assert r.status_code == 422 and "Nope" in r.json()["detail"]


def test_options_clip_skip_and_checkpoint_switching(client: httpx.Client, api_server: Served) -> None:
    options = client.get(f"{V1}/options").json()
    assert options["sd_model_checkpoint"].startswith("tiny-a.safetensors [") and options["CLIP_stop_at_last_layers"] == 1
    try:
        assert client.post(f"{V1}/options", json={"CLIP_stop_at_last_layers": 2}).status_code == 200
        r = client.post(f"{V1}/txt2img", json={"prompt": "x", "seed": 4, **SMALL})
        assert "Clip skip: 2" in png_text(r.json()["images"][0])
        r = client.post(f"{V1}/txt2img", json={"prompt": "x", "seed": 4, "override_settings": {
            "CLIP_stop_at_last_layers": 1, "sd_model_checkpoint": "tiny-b"}, **SMALL})
        text = png_text(r.json()["images"][0])
        assert "Clip skip" not in text and "Model: tiny-b" in text
        assert api_server.app.models.current_info.name == "tiny-a.safetensors", "override restored afterwards"

        r = client.post(f"{V1}/options", json={"CLIP_stop_at_last_layers": 0})
        assert r.status_code == 422 and "CLIP_stop_at_last_layers" in r.json()["detail"]
        for name in ("nope.safetensors", "../../etc/passwd", "/etc/passwd", "tiny-a\x00.safetensors"):
            r = client.post(f"{V1}/options", json={"sd_model_checkpoint": name})
            assert r.status_code == 404 and "No checkpoint named" in r.json()["detail"], name
        assert client.post(f"{V1}/options", json={"sd_model_checkpoint": "tiny-b.safetensors"}).status_code == 200
        assert client.get(f"{V1}/options").json()["sd_model_checkpoint"].startswith("tiny-b.safetensors")
    finally:
        client.post(f"{V1}/options", json={"CLIP_stop_at_last_layers": 1, "sd_model_checkpoint": "tiny-a"})


BAD_REQUESTS = [
    ({"steps": "abc"}, 422, "steps"),
    ({"steps": 2.5}, 422, "steps"),
    ({"steps": 0}, 422, "Steps"),
    ({"steps": 1000}, 422, "Steps"),
    ({"width": 65}, 422, "width"),
    ({"height": 50000}, 422, "height"),
    ({"width": 50000, "height": 50000}, 422, "width"),
    ({"n_iter": 0}, 422, "Batch count"),
    ({"cfg_scale": "high"}, 422, "cfg_scale"),
    ({"sampler_name": "Nope"}, 422, "Unknown sampler"),
    ({"scheduler": "Nope"}, 422, "Unknown schedule"),
    ({"restore_faces": True}, 422, "restore_faces"),
    ({"enable_hr": True, "hr_upscaler": "Bogus"}, 422, "Unknown hires upscaler 'Bogus'"),
    ({"alwayson_scripts": {"ControlNet": {"args": []}}}, 422, "alwayson_scripts"),
    ({"prompt": "x" * 40_000}, 422, "prompt"),
    ({"force_task_id": "x" * 100}, 422, "force_task_id"),
    ({"override_settings": {"sd_model_checkpoint": "missing"}}, 404, "missing"),
]


@pytest.mark.parametrize(("body", "status", "named"), BAD_REQUESTS)
def test_bad_requests_get_a_4xx_naming_the_field(client: httpx.Client, body: dict, status: int, named: str) -> None:
    r = client.post(f"{V1}/txt2img", json={**SMALL, **body})
    assert r.status_code == status, r.text
    payload = r.json()
    text = payload.get("message") or payload.get("detail")
    assert named in text, payload
    assert len(r.content) < 5000, "the answer does not echo the input"


def test_malformed_bodies_and_images_are_4xx_and_the_queue_keeps_working(client: httpx.Client,
                                                                          api_server: Served) -> None:
    post = client.post
    assert post(f"{V1}/txt2img", content=b'{"prompt": "x"', headers={"content-type": "application/json"}).status_code == 422
    assert post(f"{V1}/txt2img", content=b'{"prompt": "x"}', headers={"content-type": "text/plain"}).status_code == 422
    big = post(f"{V1}/txt2img", content=b'{"prompt": "' + b"a" * (100 * 1024 * 1024) + b'"}',
               headers={"content-type": "application/json"})
    assert big.status_code == 413 and "larger than" in big.json()["detail"]

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buffer, format="PNG")
    png = buffer.getvalue()
    cases = {
        "!!!not base64!!!": "not valid base64",
        base64.b64encode(b"just some text").decode(): "does not hold an image",
        base64.b64encode(png[: len(png) // 2]).decode(): "damaged or incomplete",
        base64.b64encode(png[:40]).decode(): "image",  # too short to tell what it is
        base64.b64encode(png_declaring(9000, 9000)).decode(): "is too large (9000x9000)",
        base64.b64encode(png_declaring(20000, 20000)).decode(): "far too large (over 67 megapixels)",
    }
    for image, expected in cases.items():
        r = post(f"{V1}/png-info", json={"image": image})
        assert r.status_code == 400 and expected in r.json()["detail"] and "'image'" in r.json()["detail"], r.text
    assert post(f"{V1}/png-info", json={}).status_code == 422
    r = post(f"{V1}/txt2img", json={"prompt": "still fine", "seed": 8, **SMALL})
    assert r.status_code == 200 and len(r.json()["images"]) == 1
    assert not api_server.app.jobs.busy


def test_png_info_reads_back_the_infotext(client: httpx.Client) -> None:
    image = client.post(f"{V1}/txt2img", json={"prompt": "a, b: c", "seed": 9, **SMALL}).json()["images"][0]
    r = client.post(f"{V1}/png-info", json={"image": "data:image/png;base64," + image})
    assert r.status_code == 200
    body = r.json()
    assert body["info"].startswith("a, b: c\n") and body["parameters"]["Seed"] == "9"
    assert body["parameters"]["Prompt"] == "a, b: c" and body["parameters"]["Size-1"] == "64"
    assert client.post(f"{V1}/png-info", json={"image": ""}).json()["info"] == ""


def test_a_failing_job_answers_500_once_and_releases_the_worker(client: httpx.Client, api_server: Served,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import modules.generation.txt2img as txt2img

    real = txt2img.txt2img

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("GPU on fire")

    monkeypatch.setattr(txt2img, "txt2img", broken)
    r = client.post(f"{V1}/txt2img", json={"prompt": "x", **SMALL})
    assert r.status_code == 500 and "GPU on fire" in r.json()["detail"]
    monkeypatch.setattr(txt2img, "txt2img", real)
    assert client.post(f"{V1}/txt2img", json={"prompt": "x", "seed": 1, **SMALL}).status_code == 200


def test_progress_shows_the_running_job_and_interrupt_stops_it(client: httpx.Client, api_server: Served) -> None:
    answer: dict[str, httpx.Response] = {}
    body = {"prompt": "long", "seed": 1, "width": 64, "height": 64, "steps": 150, "n_iter": 20,
            "force_task_id": "task-long"}
    worker = threading.Thread(target=lambda: answer.update(r=client.post(f"{V1}/txt2img", json=body)))
    worker.start()
    deadline = time.monotonic() + 60
    seen = None
    while time.monotonic() < deadline:
        seen = client.get(f"{V1}/progress").json()
        # the job draws a preview at its next step once a client has asked for one (as in A1111)
        if seen["state"]["sampling_step"] > 0 and seen["current_image"]:
            break
        time.sleep(0.05)
    assert seen and 0 < seen["progress"] < 1 and seen["eta_relative"] >= 0
    assert seen["state"]["job"] == "txt2img" and seen["state"]["id_task"] == "task-long"
    assert seen["state"]["sampling_steps"] == 150 and seen["state"]["job_count"] == 20
    assert seen["textinfo"].startswith("Step ")
    preview = Image.open(io.BytesIO(base64.b64decode(seen["current_image"])))  # live preview (Approx cheap)
    assert preview.format == "PNG" and preview.size[0] > 0
    assert client.get(f"{V1}/progress", params={"skip_current_image": True}).json()["current_image"] is None
    by_id = client.get(f"{V1}/progress", params={"id_task": "task-long"}).json()
    assert by_id["state"]["status"] == "running"
    assert client.post(f"{V1}/interrupt").json() == {}
    worker.join(60)
    r = answer["r"]
    assert r.status_code == 200
    info = json.loads(r.json()["info"])
    assert info["interrupted"] is True and len(r.json()["images"]) < 20
    assert client.get(f"{V1}/progress", params={"id_task": "task-long"}).json()["state"]["status"] == "done"
    idle = client.get(f"{V1}/progress").json()
    assert idle["progress"] == 0 and idle["state"]["job"] == "" and idle["current_image"] is None
    assert client.get(f"{V1}/progress", params={"id_task": "nope"}).status_code == 404


def test_docs_are_served_locally_with_the_schema(client: httpx.Client) -> None:
    from modules.api.schemas import StableDiffusionProcessingTxt2Img

    page = client.get("/docs")
    assert page.status_code == 200 and "/openapi.json" in page.text
    assert "http://" not in page.text and "https://" not in page.text and "//cdn" not in page.text
    schema = client.get("/openapi.json").json()
    assert "/sdapi/v1/txt2img" in schema["paths"] and "/sdapi/v1/progress" in schema["paths"]
    props = schema["components"]["schemas"]["StableDiffusionProcessingTxt2Img"]["properties"]
    assert set(props) == set(StableDiffusionProcessingTxt2Img.model_fields)
    assert props["steps"]["default"] == 50 and props["sampler_index"]["default"] == "Euler"
    assert client.get("/redoc").status_code == 404


def test_images_that_come_out_as_nan_are_left_out_and_info_says_why(client: httpx.Client, api_server: Served) -> None:
    """A checkpoint with NaN in its weights draws only NaN: no black images, a warning naming the file."""
    from tests.tiny_models import spoil_weights, write_tiny_checkpoint

    folder = api_server.data_dir / "models" / "Stable-diffusion"
    broken = write_tiny_checkpoint(folder, "sd1", name="tiny-broken")
    spoil_weights(broken)
    try:
        assert client.post(f"{V1}/refresh-checkpoints").status_code == 200
        r = client.post(f"{V1}/txt2img", json={"prompt": "x", "seed": 3, "batch_size": 2, **SMALL,
                                               "override_settings": {"sd_model_checkpoint": "tiny-broken"}})
    finally:
        broken.unlink()
        assert client.post(f"{V1}/refresh-checkpoints").status_code == 200
    assert r.status_code == 200, r.text
    info = json.loads(r.json()["info"])
    assert r.json()["images"] == [] and info["all_seeds"] == [] and not info["interrupted"]
    assert len(info["warnings"]) == 1 and "2 image(s) (seed: 3, 4) came out as NaN" in info["warnings"][0]
    assert "tiny-broken.safetensors" in info["warnings"][0] and "unet.conv_out.weight" in info["warnings"][0]
    assert client.get(f"{V1}/options").json()["sd_model_checkpoint"].startswith("tiny-a.safetensors")


def test_override_settings_set_the_noise_schedule_for_that_request_only(client: httpx.Client) -> None:
    body = {"prompt": "x", "seed": 4, **SMALL}
    r = client.post(f"{V1}/txt2img", json={**body, "override_settings": {"sd_noise_schedule": "Zero Terminal SNR"}})
    assert r.status_code == 200, r.text
    assert "Noise Schedule: Zero Terminal SNR" in json.loads(r.json()["info"])["infotexts"][0]
    later = client.post(f"{V1}/txt2img", json=body).json()
    assert "Noise Schedule" not in json.loads(later["info"])["infotexts"][0]
    assert client.get(f"{V1}/options").json()["sd_noise_schedule"] == "Default"
    bad = client.post(f"{V1}/txt2img", json={**body, "override_settings": {"sd_noise_schedule": "Cosine"}})
    assert bad.status_code == 422 and "sd_noise_schedule" in bad.text and "Zero Terminal SNR" in bad.text
    pasted = client.post(f"{V1}/txt2img", json={**body, "infotext": "x\nSteps: 2, Seed: 4, Noise Schedule: Zero Terminal SNR"})
    assert "Noise Schedule: Zero Terminal SNR" in json.loads(pasted.json()["info"])["infotexts"][0], "as A1111's infotext"
