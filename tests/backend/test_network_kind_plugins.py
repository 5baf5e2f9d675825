"""A network kind is one object implementing modules/networks/kind.py's protocol, registered on the App: the
extra-networks panel lists it, the API lists it, a generation hands it the prompt tags it claims and undoes
what it did afterwards. A registered sampler drives a real generation the same way."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from modules.extra_network_tags import NetworkTag
from modules.generation.params import Txt2ImgParams
from modules.generation.txt2img import run_txt2img
from modules.networks.activation import networks_applied
from modules.networks.kind import NetworkItem, NetworkKind, NetworkReport

SMALL = {"width": 64, "height": 64, "steps": 2}


class FakeKind:
    """Scales the UNet's first conv weight by <fake:name:factor> for one generation."""

    name = "fake"
    label = "Fake nets"
    prompt_tags = ("fake",)
    in_panel = True

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.calls: list[tuple[str, list[NetworkTag]]] = []
        self.during: list[float] = []  # the weight's first value while applied

    def list(self, refresh: bool = False) -> list[NetworkItem]:
        return [NetworkItem("glow", self.folder / "glow.bin", prompt="<fake:glow:1>", note="a fake network",
                            api={"name": "glow"})]

    def load(self, name: str) -> Any:
        return 2.0 if name == "glow" else None

    @contextmanager
    def apply(self, model: Any, tags: Sequence[NetworkTag]) -> Iterator[NetworkReport]:
        mine = [t for t in tags if t.kind == "fake"]
        self.calls.append(("enter", mine))
        weight = model.unet.conv_in.weight
        original = weight.detach().clone()
        factor = 1.0
        for tag in mine:
            factor *= tag.multiplier(0, 1.0) if self.load(tag.name) is not None else 1.0
        weight.data.mul_(factor)
        self.during.append(float(weight.flatten()[0]))
        try:
            yield NetworkReport(notices=[f"fake: {len(mine)} tag(s)"], infotext={"Fake nets": ",".join(t.name for t in mine)})
        finally:
            weight.data.copy_(original)
            self.calls.append(("exit", mine))


def test_a_fake_kind_is_a_network_kind_listed_by_panel_and_api(make_app, tmp_path: Path) -> None:  # noqa: ANN001
    app = make_app((), load=False)
    kind = FakeKind(tmp_path)
    assert isinstance(kind, NetworkKind)
    app.registry.networks.register("fake", kind, source="test-extension")
    from modules.api import lists
    from modules.ui.extra_networks import list_cards, panel_kinds, show_cards

    assert [k.label for k in panel_kinds(app)] == ["Textual Inversion", "LoRA", "Hypernetworks", "Fake nets"]
    assert [(c.name, c.tag, c.detail) for c in list_cards(app, "Fake nets")] == [("glow", "<fake:glow:1>",
                                                                                  "a fake network")]
    assert show_cards(app, "fake", "glo")[1] == ["<fake:glow:1>"]
    assert show_cards(app, "Gone kind", "")[1] == [], "a kind no longer registered shows nothing"
    listed = {k["name"]: k for k in lists.extra_networks(app)}
    assert list(listed) == ["embedding", "lora", "hypernetwork", "vae", "fake"]
    assert listed["fake"]["source"] == "test-extension" and listed["fake"]["items"][0]["prompt"] == "<fake:glow:1>"
    assert lists.network_items(app, "fake") == [{"name": "glow"}]

    from modules.ui.blocks import build_ui
    from tests.ui.test_blocks import component

    radio = component(build_ui(app), "extra_networks_kind")
    assert [c[0] if isinstance(c, tuple) else c for c in radio.choices][-1] == "Fake nets"


def test_a_generation_hands_the_kind_its_tags_and_undoes_it(make_app, tmp_path: Path) -> None:  # noqa: ANN001
    app = make_app(("sd1",))
    kind = FakeKind(tmp_path)
    app.registry.networks.register("fake", kind, source="test-extension")
    model = app.models.current
    before = model.unet.conv_in.weight.detach().clone()
    plain = run_txt2img(app, Txt2ImgParams(prompt="a cat", seed=5, **SMALL))
    assert kind.calls == [], "no <fake:…> tag: the kind is not asked"
    result = run_txt2img(app, Txt2ImgParams(prompt="a cat <fake:glow:3>", seed=5, **SMALL))
    assert [(step, [t.name for t in tags]) for step, tags in kind.calls] == [("enter", ["glow"]), ("exit", ["glow"])]
    assert kind.during == [pytest.approx(float(before.flatten()[0]) * 3, rel=1e-5)]
    assert bool((model.unet.conv_in.weight == before).all()), "undone after the generation"
    assert "fake: 1 tag(s)" in result.message and "Fake nets: glow" in result.infotexts[0]
    assert result.images[0].tobytes() != plain.images[0].tobytes(), "the kind's change reached the image"


def test_networks_applied_undoes_in_reverse_order_on_error(tmp_path: Path) -> None:
    order: list[str] = []

    class Recorder(FakeKind):
        def __init__(self, name: str) -> None:
            super().__init__(tmp_path)
            self.name = name

        @contextmanager
        def apply(self, model: Any, tags: Sequence[NetworkTag]) -> Iterator[NetworkReport]:
            order.append(f"in {self.name}")
            try:
                yield NetworkReport(infotext={self.name: 1})
            finally:
                order.append(f"out {self.name}")

    tags = [NetworkTag("fake", "glow")]
    with pytest.raises(RuntimeError), networks_applied([Recorder("a"), Recorder("b")], object(), tags) as used:
        assert used.infotext == {"a": 1, "b": 1}
        raise RuntimeError("interrupted")
    assert order == ["in a", "in b", "out b", "out a"]


def test_a_registered_sampler_draws_a_generation(make_app) -> None:  # noqa: ANN001
    from modules.samplers.builders import class_builder, diffusers_class
    from modules.samplers.specs import SamplerSpec

    app = make_app(("sd1",))
    built: list[dict[str, Any]] = []
    euler = class_builder(lambda: diffusers_class("EulerDiscreteScheduler"))

    def build(config: dict[str, Any]) -> Any:
        built.append(config)
        return euler(config)

    app.registry.samplers.register("Plugin Euler", SamplerSpec("Plugin Euler", "EulerDiscreteScheduler",
                                                               config={"timestep_spacing": "linspace"},
                                                               builder=build), source="test-extension")
    mine = run_txt2img(app, Txt2ImgParams(prompt="a cat", seed=1, sampler_name="Plugin Euler", **SMALL))
    core = run_txt2img(app, Txt2ImgParams(prompt="a cat", seed=1, sampler_name="Euler", **SMALL))
    assert len(built) == 1 and "Sampler: Plugin Euler" in mine.infotexts[0]
    assert mine.images[0].tobytes() == core.images[0].tobytes(), "the same scheduler as core Euler"
