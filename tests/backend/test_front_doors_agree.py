"""One request, three front doors: the web UI's handlers, the REST API (real HTTP) and the command line give
the same pixels and the same infotext, because all three only translate into a GenerationRequest whose rules
live in modules/generation/resolve.py. The request uses a style, an infotext pasted/passed in (with its VAE,
so the VAE is a per-request choice) and no size (the checkpoint declares 64x64). Per-request choices never
change the app's: another browser session, the selected VAE and the remembered options stay as they were."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from modules.cli_generate import EXIT_BAD_INPUT, main
from modules.generation.outputs import read_png_infotext
from modules.messages import msg
from modules.ui.blocks import build_ui
from tests.api.helpers import Served, running_server
from tests.backend.test_vae import write_vae
from tests.tiny_models import declare_size, write_tiny_checkpoint
from tests.ui.test_blocks import component, handler, run_generate, text_of

V1 = "/sdapi/v1"
VAE = "mse.safetensors"
# no Size: the checkpoint's declared size applies; the VAE is a file in models/VAE, so it is this request's
INFOTEXT = f"a fox\nNegative prompt: dark\nSteps: 2, Sampler: Euler a, CFG scale: 5, Seed: 42, VAE: {VAE}"
STYLES = 'name,prompt,negative_prompt\nInk,"{prompt}, ink drawing",blurry\n'
UI_FIELDS = {"prompt": "txt2img_prompt", "negative_prompt": "txt2img_neg_prompt", "steps": "txt2img_steps",
             "width": "txt2img_width", "height": "txt2img_height", "seed": "txt2img_seed",
             "sampler_name": "txt2img_sampling", "scheduler": "txt2img_scheduler", "cfg_scale": "txt2img_cfg_scale",
             "batch_count": "txt2img_batch_count", "batch_size": "txt2img_batch_size",
             "clip_skip": "txt2img_clip_skip", "emphasis": "txt2img_emphasis"}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("doors") / "data"
    checkpoint = write_tiny_checkpoint(folder / "models" / "Stable-diffusion", "sd1", name="tiny-sd1")
    declare_size(Path(checkpoint), "64x64")
    (folder / "models" / "VAE").mkdir(parents=True)
    write_vae(folder / "models" / "VAE" / VAE, seed=12)
    (folder / "styles.csv").write_text(STYLES, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def served(data_dir: Path) -> Iterator[Served]:
    with running_server(data_dir, "--nowebui", "--precision", "fp32") as served:
        yield served


@pytest.fixture(scope="module")
def client(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=120) as c:
        yield c


@pytest.fixture(scope="module")
def demo(served: Served) -> Any:
    return build_ui(served.app)  # the UI's handlers on the server's own App


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def ui_fields(demo: Any, **changes: Any) -> dict[str, Any]:
    values = {name: component(demo, elem_id).value for name, elem_id in UI_FIELDS.items()}
    return {**values, **changes}


def ui_generate(demo: Any, fields: dict[str, Any], styles: list[str], labels: list[str]) -> dict[Any, Any]:
    final, _ = run_generate(demo, **fields, styles=styles, override_settings=labels)
    return final


def ui_run(demo: Any) -> tuple[np.ndarray, str]:
    """Paste the infotext with ↙️, let the fields follow the model's size, pick the style, Generate."""
    fields = ui_fields(demo, prompt=INFOTEXT)
    pasted = handler(demo, "txt2img_paste")(**fields)
    by_id = {getattr(c, "elem_id", None): v for c, v in pasted.items()}
    fields.update({name: by_id[elem_id] for name, elem_id in UI_FIELDS.items()
                   if elem_id in by_id and not isinstance(by_id[elem_id], dict)})
    labels = by_id["txt2img_override_settings"]["value"]
    assert labels == [f"VAE: {VAE}"], "the pasted VAE is this tab's own choice"
    *sizes, _set = handler(demo, "follow_model_size")(fields["width"], fields["height"], 512, 512, None)
    fields.update(width=sizes[0], height=sizes[1])
    final = ui_generate(demo, fields, ["Ink"], labels)
    gallery = final[component(demo, "txt2img_gallery")]
    assert gallery, text_of(final.get(component(demo, "txt2img_message"), ""))
    path = Path(gallery[0])
    with Image.open(path) as image:
        return pixels(image), final[component(demo, "txt2img_infotext")]


def api_run(client: httpx.Client, **body: Any) -> tuple[np.ndarray, str]:
    r = client.post(f"{V1}/txt2img", json={"infotext": INFOTEXT, "styles": ["Ink"], **body})
    assert r.status_code == 200, r.text
    with Image.open(io.BytesIO(base64.b64decode(r.json()["images"][0]))) as image:
        return pixels(image), json.loads(r.json()["info"])["infotexts"][0]


def cli(data_dir: Path, *argv: str) -> tuple[int, list[Path], str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([*argv, "--data-dir", str(data_dir), "--device", "cpu", "--precision", "fp32", "--no-demo-model"],
                out=out, err=err)
    return code, [Path(line) for line in out.getvalue().splitlines()], err.getvalue()


def cli_run(data_dir: Path, tmp_path: Path) -> tuple[np.ndarray, str]:
    infotext = tmp_path / "params.txt"
    infotext.write_text(INFOTEXT, encoding="utf-8")
    code, paths, err = cli(data_dir, "txt2img", "--infotext", str(infotext), "--styles", "Ink")
    assert code == 0, err
    with Image.open(paths[0]) as image:
        return pixels(image), read_png_infotext(paths[0]) or ""


def test_ui_api_and_cli_give_the_same_image_and_infotext(demo: Any, client: httpx.Client, served: Served,
                                                         data_dir: Path, tmp_path: Path) -> None:
    api_pixels, api_text = api_run(client)
    assert "a fox, ink drawing" in api_text and "Negative prompt: dark, blurry" in api_text
    assert "Size: 64x64" in api_text and f"VAE: {VAE}" in api_text and "Seed: 42" in api_text
    ui_pixels, ui_text = ui_run(demo)
    cli_pixels, cli_text = cli_run(data_dir, tmp_path)
    assert ui_text == api_text == cli_text
    assert np.array_equal(ui_pixels, api_pixels) and np.array_equal(cli_pixels, api_pixels)
    assert served.app.networks.vaes.selected == "Automatic", "a request's VAE is never the app's"
    assert served.app.options.get("sd_vae") == "Automatic"
    # without the VAE the image differs: the per-request VAE was really used
    plain_pixels, plain_text = api_run(client, override_settings={"sd_vae": "None"})
    assert "VAE" not in plain_text and not np.array_equal(plain_pixels, api_pixels)


def test_a_ui_paste_is_this_tabs_choice_only(demo: Any, served: Served) -> None:
    """Session A pastes an infotext with a VAE; session B (no override in its box) draws with the app's VAE."""
    a_pixels, a_text = ui_run(demo)
    fields = ui_fields(demo, prompt="a fox", negative_prompt="dark", steps=2, sampler_name="Euler a", cfg_scale=5,
                       seed=42, width=64, height=64)
    final = ui_generate(demo, fields, ["Ink"], [])
    b_text = final[component(demo, "txt2img_infotext")]
    assert f"VAE: {VAE}" in a_text and "VAE" not in b_text
    assert served.app.networks.vaes.selected == "Automatic" and served.app.options.get("sd_vae") == "Automatic"
    with Image.open(final[component(demo, "txt2img_gallery")][0]) as image:
        assert not np.array_equal(pixels(image), a_pixels)


def test_api_override_sd_vae_leaves_the_selected_vae_alone_during_and_after(client: httpx.Client, served: Served,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import modules.generation.txt2img as txt2img_module

    real, seen = txt2img_module.txt2img, []

    def watched(app: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append((app.networks.vaes.selected, kwargs.get("vae")))
        return real(app, *args, **kwargs)

    monkeypatch.setattr(txt2img_module, "txt2img", watched)
    r = client.post(f"{V1}/txt2img", json={"prompt": "x", "steps": 2, "seed": 1,
                                           "override_settings": {"sd_vae": VAE},
                                           "override_settings_restore_afterwards": False})
    assert r.status_code == 200, r.text
    assert f"VAE: {VAE}" in json.loads(r.json()["info"])["infotexts"][0]
    assert seen == [("Automatic", VAE)], "the job ran with its own VAE while the app's stayed selected"
    assert served.app.networks.vaes.selected == "Automatic" and served.app.options.get("sd_vae") == "Automatic"


def test_an_unknown_style_is_the_same_message_at_every_door(demo: Any, client: httpx.Client,
                                                            data_dir: Path) -> None:
    expected = msg("unknown_style", name="Nope", styles="'Ink'")
    r = client.post(f"{V1}/txt2img", json={"prompt": "x", "styles": ["Ink", "Nope"]})
    assert r.status_code == 422 and r.json()["detail"] == expected
    final = ui_generate(demo, ui_fields(demo, prompt="x"), ["Ink", "Nope"], [])
    assert text_of(final[component(demo, "txt2img_message")]) == expected
    code, paths, err = cli(data_dir, "txt2img", "x", "--styles", "Ink", "--styles", "Nope")
    assert code == EXIT_BAD_INPUT and paths == [] and err == msg("cli_error", error=expected) + "\n"
    assert "sdapi" not in expected


def test_img2img_at_every_door_gives_the_same_image(demo: Any, client: httpx.Client, data_dir: Path,
                                                    tmp_path: Path) -> None:
    init = Image.fromarray(np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8), "RGB")
    init_file = tmp_path / "init.png"
    init.save(init_file)
    buffer = io.BytesIO()
    init.save(buffer, format="PNG")
    common = {"prompt": "a fox", "seed": 9, "steps": 2, "sampler_name": "Euler a", "denoising_strength": 0.6}
    r = client.post(f"{V1}/img2img", json={**common, "styles": ["Ink"],
                                           "init_images": [base64.b64encode(buffer.getvalue()).decode()]})
    assert r.status_code == 200, r.text
    with Image.open(io.BytesIO(base64.b64decode(r.json()["images"][0]))) as image:
        api_pixels, api_text = pixels(image), json.loads(r.json()["info"])["infotexts"][0]
    assert "a fox, ink drawing" in api_text and "Denoising strength: 0.6" in api_text and "Size: 64x64" in api_text

    final: dict[Any, Any] = {}
    for update in handler(demo, "img2img")(**common, width=64, height=64, styles=["Ink"], override_settings=[],
                                           mode="img2img", init_image=init):
        final.update(update)
    ui_text = final[component(demo, "img2img_infotext")]
    with Image.open(final[component(demo, "img2img_gallery")][0]) as image:
        ui_pixels = pixels(image)

    code, paths, err = cli(data_dir, "img2img", "a fox", "-i", str(init_file), "--seed", "9", "--steps", "2",
                           "--sampler", "Euler a", "-s", "0.6", "--styles", "Ink")
    assert code == 0, err
    with Image.open(paths[0]) as image:
        cli_pixels, cli_text = pixels(image), read_png_infotext(paths[0]) or ""
    assert ui_text == api_text == cli_text
    assert np.array_equal(ui_pixels, api_pixels) and np.array_equal(cli_pixels, api_pixels)
