"""The X/Y/Z plot's controls outside the browser: ↙️ on a grid's infotext selects the script and fills its
axes (the dropdowns their lists), the 📒 fill, swap and type-change handlers; a request that names no
script gets the one its infotext records (the API's `infotext`)."""

from __future__ import annotations

import gradio as gr

from modules.scripts.select import script_run_with_infotext
from modules.ui.paste import wire_paste
from modules.ui.txt2img_tab import build_txt2img_tab
from modules.xyz.plot import TITLE
from tests.ui.test_blocks import component, handler

GRID = ('a cat\nSteps: 2, Sampler: Euler, Schedule type: Automatic, CFG scale: 3, Seed: 21, Size: 64x64, '
        'Script: X/Y/Z plot, X Type: CFG Scale, X Values: "3, 7", Y Type: Sampler, Y Values: "Euler,Euler a", '
        'Version: sdwebui 0.1.0')
ID = "txt2img_script_x_y_z_plot"


def test_paste_selects_the_plot_and_fills_its_controls(sd1_app) -> None:  # noqa: ANN001
    with gr.Blocks() as demo:
        tab = build_txt2img_tab(sd1_app)
        wire_paste(sd1_app, "txt2img", tab.row.paste, tab.binding, tab.panel.message, tab.overrides, tab.scripts)
    values = {name: c.value for name, c in tab.binding.components.items()}
    out = handler(demo, "txt2img_paste")(**{**values, "prompt": GRID})
    by_id = {getattr(c, "elem_id", None): v for c, v in out.items()}
    assert by_id["txt2img_script"] == TITLE and by_id["txt2img_seed"] == 21
    assert (by_id[f"{ID}_x_type"], by_id[f"{ID}_x_values"]) == ("CFG Scale", "3, 7")
    assert (by_id[f"{ID}_y_type"], by_id[f"{ID}_y_values_dropdown"]) == ("Sampler", ["Euler", "Euler a"])
    assert by_id[f"{ID}_z_type"] == "Nothing" and by_id[f"{ID}_draw_legend"] is True
    assert component(demo, f"{ID}_x_type").value == "Seed", "the defaults until a paste"
    # a plain infotext leaves the Script dropdown alone
    plain = handler(demo, "txt2img_paste")(**{**values, "prompt": "a dog\nSteps: 3, Sampler: Euler, Seed: 4"})
    assert "txt2img_script" not in {getattr(c, "elem_id", None) for c in plain}


def test_fill_swap_and_type_change(sd1_app) -> None:  # noqa: ANN001
    with gr.Blocks() as demo:
        build_txt2img_tab(sd1_app)
    fill = handler(demo, f"{ID}_fill_0")
    _text, menu = fill("Sampler", False)
    assert "Euler a" in menu["value"] and "DPM++ 2M" in menu["value"]
    text, _menu = fill("Schedule type", True)
    assert text["value"].startswith("Automatic,")
    swapped = handler(demo, f"{ID}_swap_xy")("Steps", "1-3", [], "Sampler", "", ["Euler"])
    assert swapped == ["Sampler", "", ["Euler"], "Steps", "1-3", []]
    box, menu, button = handler(demo, f"{ID}_type_1")("Sampler", False, "Euler, Nope", [])
    assert box["visible"] is False and menu["visible"] is True and menu["value"] == ["Euler"]
    box, menu, button = handler(demo, f"{ID}_type_1")("Steps", False, "1-3", ["Euler"])
    assert box["visible"] is True and menu["visible"] is False and button["visible"] is False


def test_a_request_without_a_script_gets_the_infotexts(sd1_app) -> None:  # noqa: ANN001
    run = script_run_with_infotext(sd1_app, "txt2img", None, [], {}, GRID)
    assert run.selected is not None and run.selected.script.title == TITLE
    assert list(run.selected.args[:6]) == ["CFG Scale", "3, 7", "3, 7", "Sampler", "Euler,Euler a", "Euler,Euler a"]
    named = script_run_with_infotext(sd1_app, "txt2img", "None", [], {}, "a\nSteps: 2, Sampler: Euler, Seed: 1")
    assert named.selected is None
    chosen = script_run_with_infotext(sd1_app, "txt2img", "Prompts from file or textbox", [], {}, GRID)
    assert chosen.selected is not None and chosen.selected.script.title != TITLE, "a named script wins"


def test_the_page_wires_paste_to_the_script_controls(sd1_app) -> None:  # noqa: ANN001
    from modules.ui.blocks import build_ui

    demo = build_ui(sd1_app)
    for tab in ("txt2img", "img2img"):
        paste = [f for f in demo.fns.values() if f.api_name == f"{tab}_paste"]
        assert len(paste) == 1
        outputs = {getattr(block, "elem_id", None) for block in paste[0].outputs}
        assert f"{tab}_script" in outputs and f"{tab}_script_x_y_z_plot_x_type" in outputs
