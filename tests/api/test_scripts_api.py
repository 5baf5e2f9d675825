"""Scripts over the REST API: script_name/script_args and alwayson_scripts on txt2img and img2img, the 422s,
GET /sdapi/v1/scripts and /script-info, and scripts an extension registers showing in both lists."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from modules.generation.hooks import HookPoint, Hooks, ImageState
from modules.generation.infotext import parse_infotext
from modules.scripts.base import Script, ScriptArg
from tests.api.helpers import SMALL, Served, png_text

V1 = "/sdapi/v1"
PFF = "prompts from file or textbox"


class Note(Script):
    """An always-on test script for both tabs: writes "Note: <text>" into the infotext when enabled."""

    title = "Note"
    is_alwayson = True
    args = (ScriptArg("Enabled", "bool", False), ScriptArg("Text", "str", "hello"),
            ScriptArg("Level", "int", 2, minimum=1, maximum=5, step=1))

    def hooks(self, args: list[Any]) -> Hooks | None:
        enabled, text, level = args

        def note(state: ImageState) -> None:
            state.extra["Note"] = f"{text} x{level}"

        return Hooks().add(HookPoint.ON_IMAGE, note) if enabled else None


class Twice(Script):
    """A selectable txt2img-only test script: draws the request twice, the second time with seed + 100."""

    title = "Twice"
    tabs = ("txt2img",)

    def run(self, app, request, args, progress):  # noqa: ANN001, ANN201
        from dataclasses import replace

        from modules.scripts.base import combine, generate_now

        first = generate_now(app, request, progress).result
        second = generate_now(app, replace(request, params=replace(request.params, seed=first.seeds[0] + 100)),
                              progress).result
        return combine([first, second], request.save_images)


@pytest.fixture(scope="module")
def served(api_server: Served) -> Iterator[Served]:
    scripts = api_server.app.registry.scripts
    scripts.register("Note", Note(), source="test-extension")
    scripts.register("Twice", Twice(), source="test-extension")
    yield api_server
    scripts.unregister("Note")
    scripts.unregister("Twice")


@pytest.fixture
def client(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=120) as c:
        yield c


def _png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_the_lists_name_every_script_per_tab(client: httpx.Client) -> None:
    core_txt, core_img = ["prompt matrix", PFF, "x/y/z plot"], ["prompt matrix", PFF, "sd upscale", "x/y/z plot"]
    assert client.get(f"{V1}/scripts").json() == {"txt2img": [*core_txt, "note", "twice"],
                                                  "img2img": [*core_img, "note"]}
    info = [i for i in client.get(f"{V1}/script-info").json() if i["name"] in (PFF, "note", "twice")]
    assert [(i["name"], i["is_img2img"], i["is_alwayson"]) for i in info] == [
        (PFF, False, False), ("note", False, True), ("twice", False, False), (PFF, True, False), ("note", True, True)]
    assert info[0]["args"][2] == {"label": "Insert prompts at the", "value": "start", "minimum": None,
                                  "maximum": None, "step": None, "choices": ["start", "end"]}
    assert info[1]["args"][2] == {"label": "Level", "value": 2, "minimum": 1, "maximum": 5, "step": 1,
                                  "choices": None}


def test_prompts_from_file_by_script_name_and_args(client: httpx.Client) -> None:
    r = client.post(f"{V1}/txt2img", json={
        **SMALL, "prompt": "photo", "seed": 4, "script_name": PFF.upper(),
        "script_args": [True, False, "start", "a cat\n--prompt a dog --steps 3"]})
    assert r.status_code == 200, r.text
    body = r.json()
    texts = [png_text(image) for image in body["images"]]
    assert [parse_infotext(t)["Prompt"] for t in texts] == ["a cat photo", "a dog photo"]
    assert [parse_infotext(t)["Steps"] for t in texts] == ["2", "3"]
    info = json.loads(body["info"])
    assert info["all_seeds"] == [4, 5] and info["infotexts"] == texts
    assert body["parameters"]["script_name"] == PFF.upper()


def test_alwayson_scripts_and_a_selected_one_together(client: httpx.Client) -> None:
    r = client.post(f"{V1}/txt2img", json={**SMALL, "prompt": "x", "seed": 1, "script_name": "twice",
                                           "alwayson_scripts": {"NOTE": {"args": [True, "hi", 3]}}})
    assert r.status_code == 200, r.text
    texts = [png_text(image) for image in r.json()["images"]]
    assert len(texts) == 2 and all("Note: hi x3" in t for t in texts)
    assert json.loads(r.json()["info"])["all_seeds"] == [1, 101]
    # img2img: always-on scripts too; without alwayson_scripts they keep their defaults (disabled)
    body = {**SMALL, "prompt": "x", "init_images": [_png()], "denoising_strength": 0.5}
    on = client.post(f"{V1}/img2img", json={**body, "alwayson_scripts": {"Note": {"args": [True]}}})
    off = client.post(f"{V1}/img2img", json=body)
    assert on.status_code == off.status_code == 200
    assert "Note: hello x2" in png_text(on.json()["images"][0]) and "Note" not in png_text(off.json()["images"][0])


@pytest.mark.parametrize(("path", "change", "named"), [
    ("txt2img", {"script_name": "SD upscale"}, "no script 'SD upscale' for txt2img. Scripts: Prompt matrix, "
                                               "Prompts from file or textbox, X/Y/Z plot, Twice"),
    ("img2img", {"script_name": "twice"}, "no script 'twice' for img2img"),
    ("txt2img", {"script_name": "note"}, "no script 'note'"),
    ("txt2img", {"script_name": PFF, "script_args": [False, False, "middle"]},
     "Argument 2 ('Insert prompts at the') of the script Prompts from file or textbox must be one of: start, end"),
    ("txt2img", {"script_name": PFF, "script_args": [False, False, "start", "--prompt a --steps 0"]}, "line 1"),
    ("txt2img", {"script_name": PFF, "script_args": [1, 2, 3, 4, 5]}, "at most 4 argument(s)"),
    ("txt2img", {"alwayson_scripts": {"ControlNet": {"args": []}}}, "Always-on scripts: Note"),
    ("txt2img", {"alwayson_scripts": {"Note": {"args": [True, "t", 9]}}}, "Argument 2 ('Level')"),
    ("txt2img", {"alwayson_scripts": {"Note": 5}}, "alwayson_scripts['Note']"),
])
def test_bad_scripts_are_422_naming_what_is_wrong(client: httpx.Client, served: Served, path: str,
                                                   change: dict, named: str) -> None:
    body = {**SMALL, "prompt": "x", **change}
    if path == "img2img":
        body["init_images"] = [_png()]
    r = client.post(f"{V1}/{path}", json=body)
    assert r.status_code == 422, r.text
    payload = r.json()
    assert named in (payload.get("message") or payload.get("detail")), payload
    assert not served.app.jobs.busy
