"""X/Y/Z axis types: the core axes in A1111's order, what each changes in a request, the checks made before
anything runs (choices, ranges, Prompt S/R, styles, networks), legends, and an axis an extension adds."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from modules.errors import InvalidParams
from modules.generation.params import Img2ImgParams, Txt2ImgParams
from modules.generation.request import GenerationRequest
from modules.xyz.axes import A1111_AXIS_ORDER, AxisSpec, axes_for, check_axis_values, find_axis
from modules.xyz.values import CORE_VALUE_TYPES, parse_values
from tests.extension_kit import write_extension


@pytest.fixture
def app(make_app):  # noqa: ANN001, ANN201
    app = make_app(("sd1",), load=False)  # no model loaded: the axes only look at the folders
    app.folders.scan()
    return app


def _request(kind: str = "txt2img", **params: object) -> GenerationRequest:
    cls = Txt2ImgParams if kind == "txt2img" else Img2ImgParams
    values = {"prompt": "a cat and a dog", "negative_prompt": "blurry cat", "width": 64, "height": 64} | params
    return GenerationRequest(kind, cls(**values), explicit=frozenset({"prompt"}))


def _values(app, label: str, text: str, request: GenerationRequest | None = None) -> list:  # noqa: ANN001
    request = request or _request()
    axis = find_axis(app, request.kind, label)
    return check_axis_values(app, axis, request, parse_values(axis, text))


def _apply(app, label: str, text: str,  # noqa: ANN001
           request: GenerationRequest | None = None) -> list[GenerationRequest]:
    request = request or _request()
    axis = find_axis(app, request.kind, label)
    return [axis.apply(request, v) for v in _values(app, label, text, request)]


def test_core_axes_follow_a1111s_order_per_tab(app) -> None:  # noqa: ANN001
    for kind in ("txt2img", "img2img"):
        labels = [a.label for a in axes_for(app, kind)]
        ours_in_a1111 = [label for label in labels if label in A1111_AXIS_ORDER[kind]]
        assert ours_in_a1111 == [label for label in A1111_AXIS_ORDER[kind] if label in labels]
        assert all(label in CORE_VALUE_TYPES for label in labels)
    t2i, i2i = A1111_AXIS_ORDER["txt2img"], A1111_AXIS_ORDER["img2img"]
    assert (len(t2i), len(i2i)) == (42, 41) and t2i[0] == i2i[0] == "Nothing" and t2i[-1] == i2i[-1] == "Size"
    assert t2i.index("Hires steps") == 5 and t2i.index("Checkpoint name") == 11 and i2i.index("Sampler") == 9
    assert "Hires steps" not in i2i and "Image CFG Scale" not in t2i
    wanted = {"Nothing", "Seed", "Var. seed", "Var. strength", "Steps", "Hires steps", "CFG Scale", "Prompt S/R",
              "Prompt order", "Sampler", "Hires sampler", "Schedule type", "Checkpoint name", "VAE", "Clip skip",
              "Denoising", "Hires upscaler", "Size", "Styles", "LoRA weight", "Hypernetwork strength"}
    assert wanted <= {a.label for a in axes_for(app, "txt2img")}
    assert "Hires steps" not in {a.label for a in axes_for(app, "img2img")}
    costs = {a.label: a.cost for a in axes_for(app, "txt2img")}
    assert (costs["Checkpoint name"], costs["VAE"], costs["Steps"]) == (1.0, 0.7, 0.0)


def test_number_axes_set_their_field_and_mark_it_the_callers(app) -> None:  # noqa: ANN001
    base = _request()
    cells = _apply(app, "Steps", "2-6 (+2)", base)
    assert [c.params.steps for c in cells] == [2, 4, 6] and all("steps" in c.explicit for c in cells)
    assert base.params.steps == 20 and "steps" not in base.explicit, "apply never changes the request"
    for label, field, text, expected in (("Seed", "seed", "-1, 7", [-1, 7]), ("Var. seed", "subseed", "3", [3]),
                                         ("Var. strength", "subseed_strength", "0-1 [3]", [0.0, 0.5, 1.0]),
                                         ("CFG Scale", "cfg_scale", "7.5", [7.5]),
                                         ("Clip skip", "clip_skip", "1-2", [1, 2]),
                                         ("Denoising", "denoising_strength", "0.3", [0.3]),
                                         ("Hires steps", "hr_second_pass_steps", "5", [5])):
        assert [getattr(c.params, field) for c in _apply(app, label, text)] == expected, label
    sized = _apply(app, "Size", "64x128", replace(base, size_from_model=True))[0]
    assert (sized.params.width, sized.params.height, sized.size_from_model) == (64, 128, False)


def test_choice_axes_take_their_choices_in_any_case(app) -> None:  # noqa: ANN001
    assert _values(app, "Sampler", "euler a, EULER, DPM++ 2M Karras") == ["Euler a", "Euler", "DPM++ 2M Karras"]
    assert _values(app, "Hires sampler", "use same sampler, euler") == ["Use same sampler", "Euler"]
    assert _values(app, "Schedule type", "karras") == ["Karras"]
    checkpoint = _values(app, "Checkpoint name", "tiny-sd1")
    assert checkpoint[0].startswith("tiny-sd1.safetensors [")
    axis = find_axis(app, "txt2img", "Checkpoint name")
    assert axis.legend(checkpoint[0]) == checkpoint[0]
    assert axis.apply(_request(), checkpoint[0]).checkpoint == checkpoint[0]
    assert _values(app, "VAE", "automatic, None") == ["Automatic", "None"]
    assert _apply(app, "VAE", "None")[0].vae == "None"
    assert _values(app, "Hires upscaler", "latent, lanczos")[0] == "Latent"
    for label, text, fragment in (("Sampler", "Euler b", "Sampler: unknown value 'Euler b'. Choose one of: .*Euler a"),
                                  ("Checkpoint name", "nope", "Checkpoint name: unknown value 'nope'.*tiny-sd1"),
                                  ("VAE", "missing.pt", "VAE: unknown value 'missing.pt'. Choose one of: Automatic"),
                                  ("Schedule type", "Zigzag", "Schedule type: unknown value 'Zigzag'"),
                                  ("Hires upscaler", "Magic", "Hires upscaler: unknown value 'Magic'")):
        with pytest.raises(InvalidParams, match=fragment):
            _values(app, label, text)


def test_values_out_of_range_are_named_before_anything_runs(app) -> None:  # noqa: ANN001
    for label, text, fragment in (("Steps", "10, 0", "Steps: the value 'Steps: 0' cannot be used: Steps must be"),
                                  ("CFG Scale", "99", "CFG Scale: the value 'CFG Scale: 99.0'.*CFG scale must be"),
                                  ("Size", "64x100", "Size: the value 'Size: 64x100'.*multiple of 8"),
                                  ("Seed", "-2", "Seed must be -1"), ("Clip skip", "13", "CLIP skip must be")):
        with pytest.raises(InvalidParams, match=fragment):
            _values(app, label, text)
    with pytest.raises(InvalidParams, match="The axis Hires steps is not available for img2img"):
        check_axis_values(app, find_axis(app, "txt2img", "Hires steps"), _request("img2img"), [5])
    with pytest.raises(InvalidParams, match="not available for img2img"):
        find_axis(app, "img2img", "Hires sampler")
    with pytest.raises(InvalidParams, match="no X/Y/Z axis type 'Colour'. Axis types: Nothing, Seed"):
        find_axis(app, "txt2img", "Colour")


def test_prompt_search_replace_and_order(app) -> None:  # noqa: ANN001
    cells = _apply(app, "Prompt S/R", "cat, fox, 狐狸")
    assert [(c.params.prompt, c.params.negative_prompt) for c in cells] == [
        ("a cat and a dog", "blurry cat"), ("a fox and a dog", "blurry fox"), ("a 狐狸 and a dog", "blurry 狐狸")]
    assert find_axis(app, "txt2img", "Prompt S/R").legend(_values(app, "Prompt S/R", "cat, fox")[1]) == "fox"
    with pytest.raises(InvalidParams, match="Prompt S/R did not find 'horse' in the prompt or the negative prompt"):
        _values(app, "Prompt S/R", "horse, cow")
    ordered = _apply(app, "Prompt order", "cat, dog", _request(prompt="cat, dog, snow"))
    assert [c.params.prompt for c in ordered] == ["cat, dog, snow", "dog, cat, snow"]
    assert find_axis(app, "txt2img", "Prompt order").legend(("dog", "cat")) == "dog, cat"
    with pytest.raises(InvalidParams, match="Prompt order: 'owl' is not in the prompt"):
        _values(app, "Prompt order", "cat, owl")


def test_styles_are_appended_and_checked(app) -> None:  # noqa: ANN001
    from modules.styles import PromptStyle, StyleStore

    StyleStore.in_data_dir(app.settings.data_dir).save([PromptStyle("Snow", "snow"), PromptStyle("Night", "night")])
    base = replace(_request(), styles=("Night",))
    assert _values(app, "Styles", 'snow, "SNOW, night"') == ["Snow", "Snow, Night"]
    cells = _apply(app, "Styles", 'Snow, "Snow, Night"', base)
    assert [c.styles for c in cells] == [("Night", "Snow"), ("Night", "Snow", "Night")]
    with pytest.raises(InvalidParams, match="Styles: unknown value 'Rain'. Choose one of: Snow, Night"):
        _values(app, "Styles", '"Snow, Rain"')


def test_network_weight_axes(app) -> None:  # noqa: ANN001
    import torch
    from safetensors.torch import save_file

    app.settings.lora_path.mkdir(parents=True, exist_ok=True)
    save_file({"x": torch.zeros(1)}, str(app.settings.lora_path / "foxStyle.safetensors"))
    tagged = _request(prompt="a fox <lora:foxStyle:1> <lora:other:0.5:te=1> <hypernet:h:1>")
    weights = [c.params.prompt for c in _apply(app, "LoRA weight", "0, 0.25", tagged)]
    assert weights == ["a fox <lora:foxStyle:0> <lora:other:0:te=1> <hypernet:h:1>",
                       "a fox <lora:foxStyle:0.25> <lora:other:0.25:te=1> <hypernet:h:1>"]
    named = [c.params.prompt for c in _apply(app, "LoRA weight", "foxStyle:0.2, foxStyle:0.6")]
    assert named == ["a cat and a dog <lora:foxStyle:0.2>", "a cat and a dog <lora:foxStyle:0.6>"]
    assert _apply(app, "Hypernetwork strength", "0.5", tagged)[0].params.prompt.endswith("<hypernet:h:0.5>")
    for text, request, fragment in (("0.5", _request(), "the prompt has no <lora:...> tag for '0.5'"),
                                    ("heavy", tagged, "'heavy' is not a weight"),
                                    ("ghost:0.5", tagged,
                                     "LoRA weight: unknown value 'ghost'. Choose one of: foxStyle")):
        with pytest.raises(InvalidParams, match=fragment):
            _values(app, "LoRA weight", text, request)


def test_nothing_and_legends(app) -> None:  # noqa: ANN001
    nothing = find_axis(app, "txt2img", "Nothing")
    assert _values(app, "Nothing", "whatever") == [None] and nothing.legend(None) == ""
    assert nothing.apply(_request(), None).params == _request().params
    assert find_axis(app, "txt2img", "CFG Scale").legend(1 / 3) == "CFG Scale: 0.33333333"
    assert find_axis(app, "txt2img", "Sampler").legend("Euler") == "Euler"
    assert find_axis(app, "txt2img", "Size").legend((64, 128)) == "Size: 64x128"
    assert find_axis(app, "txt2img", "Steps").legend(20) == "Steps: 20"


ETA_AXIS = """
from dataclasses import replace

from modules.xyz.axes import AxisSpec


def apply_prompt_suffix(request, value):
    params = replace(request.params, prompt=f"{request.params.prompt}, {value}")
    return replace(request, params=params)


def register(ext):
    ext.registry.xyz_axes.register("Suffix", AxisSpec("Suffix", "str", apply_prompt_suffix,
                                                      choices=lambda app: ["snow", "rain"], tabs=("txt2img",)))
"""


def test_an_axis_registered_by_an_extension_works(tmp_path: Path) -> None:
    from modules.app import build_app
    from modules.settings import Settings

    write_extension(tmp_path / "extensions", "suffix-axis", ETA_AXIS)
    app = build_app(Settings(data_dir=tmp_path, device="cpu", demo_checkpoint=None))
    info = app.extensions.get("suffix-axis")
    assert info is not None and info.status == "loaded", info and info.error
    assert app.registry.xyz_axes.entry("suffix").source == "suffix-axis"
    assert [a.label for a in axes_for(app, "txt2img")][-1] == "Suffix"
    assert "Suffix" not in [a.label for a in axes_for(app, "img2img")]
    axis = find_axis(app, "txt2img", "suffix")
    assert isinstance(axis, AxisSpec)
    values = check_axis_values(app, axis, _request(), parse_values(axis, "SNOW, rain"))
    assert values == ["snow", "rain"] and axis.legend("snow") == "Suffix: snow"
    prompts = [axis.apply(_request(), v).params.prompt for v in values]
    assert prompts == ["a cat and a dog, snow", "a cat and a dog, rain"]
    with pytest.raises(InvalidParams, match="Suffix: unknown value 'hail'. Choose one of: snow, rain"):
        check_axis_values(app, axis, _request(), parse_values(axis, "hail"))
