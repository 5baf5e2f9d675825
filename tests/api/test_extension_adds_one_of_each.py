"""Issue 26's "done when": a new network kind, a new sampler and a new script are each added by ONE file that
registers it, from an extension folder given with --extensions-dir; each then shows in the page's lists (the
Sampling method dropdown, the extra-networks kinds, the Script dropdown) and in the API's lists, and one
txt2img request over real HTTP uses all three (the kind's tag, the sampler, the script)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modules.generation.infotext import parse_infotext
from tests.api.helpers import SMALL, Served, make_data_dir, png_text, running_server
from tests.extension_kit import write_extension

V1 = "/sdapi/v1"

KIND = '''
from contextlib import contextmanager

from modules.networks.kind import NetworkItem, NetworkReport


class Dimmer:
    """<dim:name:factor> scales the UNet's first conv weight for one generation, then puts it back."""

    name = "dimmer"
    label = "Dimmers"
    prompt_tags = ("dim",)
    in_panel = True

    def list(self, refresh=False):
        return [NetworkItem("half", prompt="<dim:half:1>", note="halves the first conv", api={"name": "half"})]

    def load(self, name):
        return 0.5 if name == "half" else None

    @contextmanager
    def apply(self, model, tags):
        mine = [t for t in tags if t.kind == "dim" and self.load(t.name) is not None]
        weight = model.unet.conv_in.weight
        kept = weight.detach().clone()
        for _tag in mine:
            weight.data.mul_(0.5)
        try:
            yield NetworkReport(infotext={"Dimmers": ",".join(t.name for t in mine)} if mine else {})
        finally:
            weight.data.copy_(kept)


def register(ext):
    ext.registry.networks.register("dimmer", Dimmer())
'''

SAMPLER = '''
from modules.samplers.specs import SamplerSpec

SPEC = SamplerSpec("Euler (ext)", "EulerDiscreteScheduler", aliases=("ext_euler",),
                   config={"timestep_spacing": "trailing"})


def register(ext):
    ext.registry.samplers.register(SPEC.name, SPEC)
'''

SCRIPT = '''
from modules.generation.hooks import HookPoint, Hooks
from modules.scripts.base import Script, ScriptArg


class Stamp(Script):
    """Always on: writes "Stamp: <text>" into each image's infotext when enabled."""

    title = "Stamp"
    is_alwayson = True
    args = (ScriptArg("Enabled", "bool", False), ScriptArg("Text", "str", "ok"))

    def hooks(self, args):
        enabled, text = args

        def stamp(state):
            state.extra["Stamp"] = text

        return Hooks().add(HookPoint.ON_IMAGE, stamp) if enabled else None


def register(ext):
    ext.registry.scripts.register(Stamp.title, Stamp())
'''


@pytest.fixture(scope="module")
def extensions_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("one-of-each") / "exts"
    write_extension(root, "dimmer-kind", KIND)
    write_extension(root, "ext-sampler", SAMPLER)
    write_extension(root, "stamp-script", SCRIPT)
    return root


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, extensions_dir: Path) -> Iterator[Served]:
    data = make_data_dir(tmp_path_factory.mktemp("one-of-each-data"))
    with running_server(data, "--api", "--extensions-dir", str(extensions_dir)) as server:
        yield server


def _choices(component: object) -> list[str]:
    return [c[0] if isinstance(c, tuple) else c for c in getattr(component, "choices", [])]


def test_each_file_registered_its_entry_under_its_own_name(served: Served) -> None:
    registry = served.app.registry
    assert registry.networks.entry("dimmer").source == "dimmer-kind"  # type: ignore[union-attr]
    assert registry.samplers.entry("Euler (ext)").source == "ext-sampler"  # type: ignore[union-attr]
    assert registry.scripts.entry("Stamp").source == "stamp-script"  # type: ignore[union-attr]


def test_the_page_lists_all_three(served: Served) -> None:
    from modules.ui.blocks import build_ui
    from tests.ui.test_blocks import component

    demo = build_ui(served.app)
    for tab in ("txt2img", "img2img"):
        assert "Euler (ext)" in _choices(component(demo, f"{tab}_sampling"))
    assert "Dimmers" in _choices(component(demo, "extra_networks_kind"))
    always_on = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "txt2img_alwayson_stamp"]
    assert len(always_on) == 1 and getattr(always_on[0], "label", None) == "Stamp"


def test_the_api_lists_all_three(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=60) as client:
        samplers = [s["name"] for s in client.get(f"{V1}/samplers").json()]
        kinds = {k["name"]: k for k in client.get(f"{V1}/extra-networks").json()}
        scripts = client.get(f"{V1}/scripts").json()
        info = {s["name"]: s for s in client.get(f"{V1}/script-info").json()}
    assert "Euler (ext)" in samplers
    assert kinds["dimmer"]["source"] == "dimmer-kind" and kinds["dimmer"]["items"][0]["name"] == "half"
    assert "stamp" in scripts["txt2img"] and "stamp" in scripts["img2img"]
    assert info["stamp"]["is_alwayson"] and [a["label"] for a in info["stamp"]["args"]] == ["Enabled", "Text"]


def test_one_request_uses_the_kind_the_sampler_and_the_script(served: Served) -> None:
    body = {"prompt": "a cat <dim:half:1>", "seed": 3, "sampler_name": "Euler (ext)", **SMALL,
            "alwayson_scripts": {"Stamp": {"args": [True, "from the extension"]}}}
    plain_body = {**body, "prompt": "a cat", "alwayson_scripts": {}}
    with httpx.Client(base_url=served.url, timeout=120) as client:
        plain = client.post(f"{V1}/txt2img", json=plain_body)
        answer = client.post(f"{V1}/txt2img", json=body)
        again = client.post(f"{V1}/txt2img", json=plain_body)
    assert answer.status_code == 200, answer.text
    fields = parse_infotext(png_text(answer.json()["images"][0]))
    assert fields["Sampler"] == "Euler (ext)"
    assert fields["Dimmers"] == "half" and fields["Stamp"] == "from the extension"
    assert json.loads(answer.json()["info"])["sampler_name"] == "Euler (ext)"
    assert answer.json()["images"][0] != plain.json()["images"][0], "the kind's change reached the image"
    assert again.json()["images"][0] == plain.json()["images"][0], "and was undone after the request"
    assert "Stamp" not in parse_infotext(png_text(plain.json()["images"][0])), "off unless a request turns it on"
