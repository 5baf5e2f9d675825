"""The Script dropdown of txt2img and img2img: its list (core and registered scripts), the controls built
from each script's args, always-on accordions, and Generate running the chosen script."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pytest

from modules.generation.hooks import HookPoint, Hooks
from modules.generation.infotext import parse_infotext
from modules.scripts.base import Script, ScriptArg
from modules.ui.blocks import build_ui
from tests.ui.test_blocks import component, handler, text_of

PFF = "Prompts from file or textbox"
SLUG = "prompts_from_file_or_textbox"


class Mood(Script):
    """A selectable img2img-only test script with every kind of control."""

    title = "Mood board"
    tabs = ("img2img",)
    args = (ScriptArg("Cells", "int", 3, minimum=1, maximum=9, step=1), ScriptArg("Gap", "float", 0.5),
            ScriptArg("Palette", "choice", "warm", choices=("warm", "cool", "mono", "neon", "pastel")))


class Signature(Script):
    title = "Signature"
    is_alwayson = True
    args = (ScriptArg("Enabled", "bool", False), ScriptArg("Name", "str", "me"))

    def hooks(self, args: list[Any]) -> Hooks | None:
        return Hooks().add(HookPoint.ON_IMAGE, lambda s: s.extra.update(Signed=args[1])) if args[0] else None


def test_the_dropdown_lists_the_tab_scripts_and_shows_their_controls(make_app) -> None:  # noqa: ANN001
    app = make_app((), load=False)
    app.registry.scripts.register(Mood.title, Mood(), source="test-extension")
    app.registry.scripts.register(Signature.title, Signature(), source="test-extension")
    demo = build_ui(app)
    txt, img = component(demo, "txt2img_script"), component(demo, "img2img_script")
    assert [c[0] for c in txt.choices] == ["None", "Prompt matrix", PFF, "X/Y/Z plot"] and txt.value == "None"
    assert [c[0] for c in img.choices] == ["None", "Prompt matrix", PFF, "SD upscale", "X/Y/Z plot", "Mood board"]
    # Prompts from file's controls, in its A1111 order, hidden until chosen
    group = component(demo, f"txt2img_script_{SLUG}")
    assert group.visible is False
    kinds = [type(component(demo, f"txt2img_script_{SLUG}_{i}")) for i in range(4)]
    assert kinds == [gr.Checkbox, gr.Checkbox, gr.Radio, gr.Textbox]
    radio = component(demo, f"txt2img_script_{SLUG}_2")
    assert radio.label == "Insert prompts at the" and [c[0] for c in radio.choices] == ["start", "end"]
    show = handler(demo, "txt2img_script_show")  # one update per script group, in the dropdown's order
    assert [u["visible"] for u in show(PFF)] == [False, True, False]
    assert [u["visible"] for u in show("None")] == [False, False, False]
    assert [u["visible"] for u in handler(demo, "img2img_script_show")("Mood board")] == [False] * 4 + [True]
    cells = component(demo, "img2img_script_mood_board_0")
    assert isinstance(cells, gr.Slider) and (cells.minimum, cells.maximum, cells.value) == (1, 9, 3)
    assert isinstance(component(demo, "img2img_script_mood_board_1"), gr.Number)
    assert isinstance(component(demo, "img2img_script_mood_board_2"), gr.Dropdown)
    # an always-on script: an accordion of its own on both tabs
    for tab in ("txt2img", "img2img"):
        assert component(demo, f"{tab}_alwayson_signature").label == "Signature"
        assert isinstance(component(demo, f"{tab}_alwayson_signature_0"), gr.Checkbox)


def _generate(demo: gr.Blocks, **fields: Any) -> dict[Any, Any]:
    final: dict[Any, Any] = {}
    for update in handler(demo, "txt2img")(**fields):
        final.update(update)
    return final


def test_generate_runs_the_chosen_script_with_the_always_on_ones(sd1_app) -> None:  # noqa: ANN001
    sd1_app.registry.scripts.register(Signature.title, Signature(), source="test-extension")
    demo = build_ui(sd1_app)
    gallery, infotext, message = (component(demo, f"txt2img_{n}") for n in ("gallery", "infotext", "message"))
    fields = {"prompt": "photo", "width": 64, "height": 64, "steps": 2, "seed": 3, "script_name": PFF,
              f"script__{SLUG}__0": True, f"script__{SLUG}__3": "cat\n--prompt dog --steps 3",
              "alwayson__signature__0": True, "alwayson__signature__1": "Ann"}
    final = _generate(demo, **fields)
    assert len(final[gallery]) == 2, text_of(final.get(message))
    info = next(v for v in final.values() if isinstance(v, dict) and "infotexts" in v)
    parsed = [parse_infotext(t) for t in info["infotexts"]]
    assert [(p["Prompt"], p["Steps"], p["Seed"], p["Signed"]) for p in parsed] == [
        ("cat photo", "2", "3", "Ann"), ("dog photo", "3", "4", "Ann")]
    assert final[infotext].startswith("cat photo")
    # a bad line is a message, nothing is queued
    final = _generate(demo, **{**fields, f"script__{SLUG}__3": "--prompt x --steps nine"})
    assert "line 1: --steps must be a whole number" in text_of(final[message])
    # None: the plain generation, the script's values ignored
    final = _generate(demo, **{**fields, "script_name": "None"})
    assert len(final[gallery]) == 1


@pytest.mark.parametrize("tab", ["txt2img", "img2img"])
def test_no_scripts_registered_still_builds(make_app, tab: str) -> None:  # noqa: ANN001
    app = make_app((), load=False)
    for name in ("Prompt matrix", PFF, "SD upscale", "X/Y/Z plot"):
        app.registry.scripts.unregister(name)
    demo = build_ui(app)
    assert [c[0] for c in component(demo, f"{tab}_script").choices] == ["None"]
