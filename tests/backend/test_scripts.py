"""Scripts: Prompts from file or textbox (lines, per-line options, seeds), argument checks, an always-on
script registered as an extension would, and --script on the command line."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from modules.errors import InvalidParams
from modules.generation.hooks import HookPoint, Hooks, ImageState
from modules.generation.infotext import parse_infotext
from modules.generation.outputs import read_png_infotext
from modules.generation.params import Txt2ImgParams
from modules.generation.request import GenerationRequest
from modules.generation.resolve import check, submit
from modules.scripts.base import Script, ScriptArg
from modules.scripts.prompts_from_file import TITLE, parse_line
from modules.scripts.select import script_run, scripts_for

SMALL = {"width": 64, "height": 64, "steps": 2, "sampler_name": "Euler"}


def _request(app, name: str | None, args: list[Any], alwayson: dict | None = None, **params: Any):  # noqa: ANN001, ANN202
    scripts = script_run(app, "txt2img", name, args, alwayson)
    values = {**SMALL, **params}
    return GenerationRequest("txt2img", Txt2ImgParams(**values), explicit=frozenset(values), scripts=scripts)


def _run(app, request: GenerationRequest):  # noqa: ANN001, ANN202
    check(app, request)
    return submit(app, request).result()


def test_prompts_from_file_draws_each_line_with_its_own_options(sd1_app) -> None:  # noqa: ANN001
    lines = 'a red fox\n\n--prompt "a blue bird" --negative_prompt blurry --steps 3 --seed 77 --cfg_scale 5\n' \
            "--prompt green frog --n_iter 2 --sampler_name 'Euler a'\n"
    outcome = _run(sd1_app, _request(sd1_app, "prompts from FILE or textbox", [False, False, "start", lines],
                                     prompt="photo", seed=10))
    result = outcome.result
    assert len(result.images) == len(result.paths) == len(result.infotexts) == 4
    infos = [parse_infotext(text) for text in result.infotexts]
    assert [i["Prompt"] for i in infos] == ["a red fox photo", "a blue bird photo", "green frog photo",
                                            "green frog photo"]
    assert infos[1]["Negative prompt"] == "blurry" and not infos[0].get("Negative prompt")
    assert [i["Steps"] for i in infos] == ["2", "3", "2", "2"] and infos[1]["CFG scale"] == "5"
    assert [i["Sampler"] for i in infos] == ["Euler", "Euler", "Euler a", "Euler a"]
    assert result.seeds == [10, 77, 10, 11], "the UI's seed for every line (not iterated), a line's own seed"
    assert all(read_png_infotext(p) == t for p, t in zip(result.paths, result.infotexts, strict=True))
    assert "Saved 4 image(s)" in result.message and outcome.params.prompt == "photo"


def test_seed_options(sd1_app) -> None:  # noqa: ANN001
    lines = "one\ntwo --steps 2\n".replace("two --steps 2", "--prompt two --steps 2")
    iterated = _run(sd1_app, _request(sd1_app, TITLE, [True, False, "end", lines], seed=20, batch_size=2)).result
    assert iterated.seeds == [20, 21, 22, 23]
    assert parse_infotext(iterated.infotexts[2])["Prompt"] == "two", "no UI prompt: the line's alone"
    same = _run(sd1_app, _request(sd1_app, TITLE, [False, True, "start", lines], seed=-1)).result
    assert len(set(same.seeds)) == 1, "one random seed for all lines"
    random_each = _run(sd1_app, _request(sd1_app, TITLE, [False, False, "start", "a\nb\nc"], seed=-1)).result
    assert len(set(random_each.seeds)) == 3


def test_prompt_position_end_joins_after_the_ui_prompt() -> None:
    from modules.scripts.prompts_from_file import PromptsFromFile

    request = GenerationRequest("txt2img", Txt2ImgParams(prompt="photo", negative_prompt="ugly"))
    subs = PromptsFromFile().requests(request, [False, False, "end", "--prompt cat --negative_prompt dark"], 1)
    (number, sub), = subs
    assert number == 1 and (sub.params.prompt, sub.params.negative_prompt) == ("photo cat", "ugly dark")
    assert {"prompt", "negative_prompt", "seed"} <= sub.explicit


def test_line_parsing_and_its_errors() -> None:
    assert parse_line('--prompt a "quoted words" b --steps 30 --styles "Style one" two --width 128') == {
        "prompt": "a quoted words b", "steps": 30, "styles": ["Style one", "two"], "width": 128}
    for line, fragment in (("--steps", "--steps needs a value"), ("--steps many", "--steps must be a whole number"),
                           ("--colour red", "unknown option '--colour'"), ('--prompt "open', "line 1"),
                           ("--steps 3 4", "unknown option '4'")):
        with pytest.raises(InvalidParams, match=fragment):
            parse_line(line)


def test_bad_lines_and_arguments_fail_before_queueing(sd1_app) -> None:  # noqa: ANN001
    with pytest.raises(InvalidParams, match="line 2: .*Steps must be between 1 and 150"):
        check(sd1_app, _request(sd1_app, TITLE, [False, False, "start", "fine\n--prompt x --steps 999"]))
    with pytest.raises(InvalidParams, match="line 3: unknown option"):
        check(sd1_app, _request(sd1_app, TITLE, [False, False, "start", "a\nb\n--nope 1"]))
    with pytest.raises(InvalidParams, match="list of prompts is empty"):
        check(sd1_app, _request(sd1_app, TITLE, [False, False, "start", "  \n"]))
    with pytest.raises(InvalidParams, match=r"Argument 2 \('Insert prompts at the'\).*one of: start, end"):
        script_run(sd1_app, "txt2img", TITLE, [False, False, "middle", "x"])
    with pytest.raises(InvalidParams, match=r"Argument 0 \('Iterate seed every line'\).*true or false"):
        script_run(sd1_app, "txt2img", TITLE, ["maybe"])
    with pytest.raises(InvalidParams, match="at most 4 argument"):
        script_run(sd1_app, "txt2img", TITLE, [False] * 5)
    with pytest.raises(InvalidParams, match=f"no script 'Loopback' for txt2img. Scripts: Prompt matrix, {TITLE}"):
        script_run(sd1_app, "txt2img", "Loopback", [])
    # left-out arguments take their defaults; strings (the command line's) are converted
    run = script_run(sd1_app, "txt2img", TITLE.upper(), ["yes"])
    assert run.selected is not None and run.selected.args == (True, False, "start", "")
    assert script_run(sd1_app, "txt2img", "None", ["ignored"]).selected is None


def test_the_other_a1111_keys_and_those_refused() -> None:
    line = ("--prompt x --subseed 9 --subseed_strength 0.25 --seed_resize_from_w 128 --seed_resize_from_h 96 "
            "--tiling true --denoising_strength 0.4 --sd_model 'tiny sd1' --do_not_save_samples yes "
            "--do_not_save_grid false --restore_faces false --sampler_index Euler")
    assert parse_line(line) == {"prompt": "x", "subseed": 9, "subseed_strength": 0.25, "seed_resize_from_w": 128,
                                "seed_resize_from_h": 96, "tiling": True, "denoising_strength": 0.4,
                                "checkpoint": "tiny sd1", "save_images": False, "save_grid": True,
                                "sampler_name": "Euler"}
    for text, fragment in (("--prompt x --outpath_samples /tmp", "line 4: --outpath_samples is not supported"),
                           ("--outpath_grids /x", "--outpath_grids is not supported: grids go to the output folders"),
                           ("--prompt_for_display y", "--prompt_for_display is not supported"),
                           ("--restore_faces true", "--restore_faces true is not possible: .*no face restoration"),
                           ("--tiling maybe", "line 4: --tiling must be true or false \\(got 'maybe'\\)"),
                           ("--subseed_strength lots", "--subseed_strength must be a number")):
        with pytest.raises(InvalidParams, match=fragment):
            parse_line(text, 4)


def test_line_keys_reach_the_request_and_bad_ones_name_their_line(sd1_app) -> None:  # noqa: ANN001
    from modules.scripts.prompts_from_file import PromptsFromFile

    request = GenerationRequest("txt2img", Txt2ImgParams(prompt="photo"))
    lines = "plain\n--prompt a --tiling true --subseed 3 --subseed_strength 0.5 --do_not_save_samples true " \
            "--sd_model tiny-sd1 --styles Snow"
    (_, plain), (_, keyed) = PromptsFromFile().requests(request, [False, False, "start", lines], 1)
    assert (plain.save_images, plain.checkpoint, plain.styles) == (True, None, ())
    assert (keyed.params.tiling, keyed.params.subseed, keyed.params.subseed_strength) == (True, 3, 0.5)
    assert (keyed.save_images, keyed.checkpoint, keyed.styles) == (False, "tiny-sd1", ("Snow",))
    with pytest.raises(InvalidParams, match="line 2: .*nope"):
        check(sd1_app, _request(sd1_app, TITLE, [False, False, "start", "a\n--prompt b --sd_model nope"]))
    with pytest.raises(InvalidParams, match="line 3: Variation strength must be between 0 and 1"):
        check(sd1_app, _request(sd1_app, TITLE, [False, False, "start", "a\n\n--prompt b --subseed_strength 7"]))
    outcome = _run(sd1_app, _request(sd1_app, TITLE, [False, False, "start",
                                                      "--prompt a --sd_model tiny-sd1 --do_not_save_samples true"]))
    assert len(outcome.result.images) == 1 and outcome.result.paths == [], "not saved, drawn with the line's model"


def test_an_uploaded_prompt_file_fills_the_list(make_app) -> None:  # noqa: ANN001
    import gradio as gr

    from modules.errors import UserError
    from modules.scripts.prompts_from_file import MAX_FILE_BYTES, PromptsFromFile, read_prompt_file
    from modules.ui.script_controls import build_script_controls

    assert read_prompt_file("\ufeffa fox\r\n--prompt 狐狸 --steps 3\r\n\r\n".encode()) == "a fox\n--prompt 狐狸 --steps 3"
    assert read_prompt_file(b"bad \xff byte") == "bad \ufffd byte"
    with pytest.raises(UserError, match="the limit is 1,000,000"):
        read_prompt_file(b"x" * (MAX_FILE_BYTES + 1))
    with pytest.raises(UserError, match="1001 lines; the limit is 1000"):
        read_prompt_file(b"a\n" * 1001)
    with gr.Blocks() as page:
        controls = build_script_controls(make_app(("sd1",), load=False), "txt2img")
    keys = list(controls.selectable[TITLE])
    assert len(keys) == len(PromptsFromFile.args) == 4, "the upload is a control, not an argument"
    uploads = [b for b in page.blocks.values() if isinstance(b, gr.File) and b.label == "Upload prompt inputs"]
    assert len(uploads) == 1 and uploads[0].elem_id.startswith("txt2img_script_")
    listed = controls.selectable[TITLE][keys[3]]
    assert any(uploads[0]._id in [c._id for c in d.inputs] and listed._id in [c._id for c in d.outputs]
               for d in page.fns.values()), "uploading fills List of prompt inputs"


class Stamp(Script):
    """A test always-on script: adds an infotext key to each image when enabled."""

    title = "Stamp"
    is_alwayson = True
    tabs = ("txt2img",)
    args = (ScriptArg("Enabled", "bool", False), ScriptArg("Strength", "float", 0.5, minimum=0, maximum=1, step=0.1))

    def hooks(self, args: list[Any]) -> Hooks | None:
        enabled, strength = args
        if not enabled:
            return None

        def stamp(state: ImageState) -> None:
            state.extra["Stamp"] = strength

        return Hooks().add(HookPoint.ON_IMAGE, stamp)


def test_an_always_on_script_from_an_extension_acts_through_hooks(sd1_app) -> None:  # noqa: ANN001
    from modules.extensions.context import ExtensionContext

    ext = ExtensionContext("stamp-ext", Path("."), sd1_app.registry, sd1_app.settings)
    ext.registry.scripts.register(Stamp.title, Stamp())
    assert sd1_app.registry.scripts.entry("Stamp").source == "stamp-ext"
    assert [t for t, _ in scripts_for(sd1_app, "txt2img", alwayson=True)] == ["Stamp"]
    assert scripts_for(sd1_app, "img2img", alwayson=True) == []
    off = _run(sd1_app, _request(sd1_app, None, [], seed=1)).result
    assert "Stamp" not in off.infotexts[0], "its defaults: disabled"
    on = _run(sd1_app, _request(sd1_app, None, [], {"stamp": {"args": [True, 0.3]}}, seed=1)).result
    assert "Stamp: 0.3" in on.infotexts[0] and "Stamp: 0.3" in read_png_infotext(on.paths[0])
    # with a selected script too: every line's images are stamped
    both = _run(sd1_app, _request(sd1_app, TITLE, [False, False, "start", "a\nb"], {"Stamp": {"args": [True]}}))
    assert all("Stamp: 0.5" in text for text in both.result.infotexts) and len(both.result.images) == 2
    with pytest.raises(InvalidParams, match=r"Argument 1 \('Strength'\) of the script Stamp must be a number from 0 to 1"):
        script_run(sd1_app, "txt2img", None, [], {"Stamp": {"args": [True, 2]}})
    with pytest.raises(InvalidParams, match="no always-on script 'ControlNet'.*Always-on scripts: Stamp"):
        script_run(sd1_app, "txt2img", None, [], {"ControlNet": {"args": []}})
    with pytest.raises(InvalidParams, match="must be"):
        script_run(sd1_app, "txt2img", None, [], {"Stamp": "on"})
    with pytest.raises(InvalidParams, match="no script 'Stamp'"):
        script_run(sd1_app, "txt2img", "Stamp", [])  # always on: not selectable


def test_cli_script_flags(tmp_path: Path) -> None:
    from modules.cli_generate import main
    from tests.tiny_models import write_tiny_checkpoint

    write_tiny_checkpoint(tmp_path / "models" / "Stable-diffusion", "sd1", name="tiny-sd1")
    out, err = io.StringIO(), io.StringIO()
    flags = ["--data-dir", str(tmp_path), "--device", "cpu", "--precision", "fp32", "--no-demo-model"]
    code = main(["txt2img", "photo", "--steps", "2", "-W", "64", "-H", "64", "--seed", "3", "--script", TITLE,
                 "--script-arg", "true", "--script-arg", "false", "--script-arg", "end", "--script-arg", "cat\ndog",
                 *flags], out=out, err=err)
    assert code == 0, err.getvalue()
    paths = [Path(line) for line in out.getvalue().splitlines()]
    assert [parse_infotext(read_png_infotext(p) or "")["Prompt"] for p in paths] == ["photo cat", "photo dog"]
    assert [parse_infotext(read_png_infotext(p) or "")["Seed"] for p in paths] == ["3", "4"]
    code = main(["txt2img", "x", "--script", TITLE, "--script-arg", "perhaps", *flags], out=io.StringIO(), err=err)
    assert code == 2 and "'Iterate seed every line'" in err.getvalue()
