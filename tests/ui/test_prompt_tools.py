"""Prompt tools' handlers (token counters, styles) called directly, and the Ctrl+Up/Down script under node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import gradio as gr
import pytest

from modules.styles import PromptStyle, StyleStore
from modules.ui.prompt_tools import (
    JS_DIR,
    PromptTools,
    build_styles_row,
    build_token_counter,
    page_head,
    styled_prompts,
    token_counter_html,
    wire_prompt_tools,
)


def _handler(demo: gr.Blocks, api_name: str) -> Any:
    found = [f.fn for f in demo.fns.values() if f.api_name == api_name]
    assert len(found) == 1, api_name
    return found[0]


@pytest.fixture
def page(make_app):  # noqa: ANN001, ANN201
    app = make_app(("sd1",), load=False)
    StyleStore.in_data_dir(app.settings.data_dir).save([PromptStyle("Film", "film still of {prompt}", "cartoon"),
                                                        PromptStyle("Sharp", "sharp focus", "blurry")])
    with gr.Blocks() as demo:
        prompt, negative = gr.Textbox(), gr.Textbox()
        steps = gr.Slider(1, 150, value=20)
        tools = PromptTools(prompt_counter=build_token_counter("t_token_counter"),
                            negative_counter=build_token_counter("t_negative_token_counter"),
                            **build_styles_row("t", ["Film", "Sharp"]))
        wire_prompt_tools(app, "t", tools, prompt, negative, steps)
    return app, demo


def _plain(value: Any) -> str:
    import re

    return re.sub(r"<[^>]+>", "", str(value))


def test_token_counters(page) -> None:  # noqa: ANN001
    _, demo = page
    count = _handler(demo, "t_token_counter")
    assert _plain(count("", 20)) == "0/75"
    assert _plain(count("a cat, (sitting:1.2) <lora:x:1>", 20)) == "4/75"
    assert _plain(count(", ".join(["word"] * 100), 20)) == "199/225"
    assert _plain(count("a BREAK b", 20)) == "76/150"
    assert _plain(count("a AND b c", None)) == "2/75"
    assert _plain(_handler(demo, "t_negative_token_counter")("a AND b c", 20)) == "4/75"
    assert token_counter_html(3, 75).endswith(">3/75</span>")


def test_apply_styles_merges_and_clears_the_selection(page) -> None:  # noqa: ANN001
    app, demo = page
    prompt, negative, selection = _handler(demo, "t_apply_styles")(["Film", "Sharp"], "a cat", "ugly")
    assert (prompt, negative) == ("film still of a cat, sharp focus", "ugly, cartoon, blurry")
    assert selection["value"] == []
    assert styled_prompts(app, "a cat", "", ["Sharp", "missing"]) == ("a cat, sharp focus", "blurry")
    assert styled_prompts(app, "a cat", "", []) == ("a cat", "")


def test_edit_save_and_delete_styles(page) -> None:  # noqa: ANN001
    app, demo = page
    store = StyleStore.in_data_dir(app.settings.data_dir)
    assert _handler(demo, "t_load_style")("Film") == ("film still of {prompt}", "cartoon")
    assert _handler(demo, "t_copy_to_style")("p", "n") == ("p", "n")
    styles, name, note = _handler(demo, "t_save_style")("Film", "old photo of {prompt}", "")
    assert store.load()[0] == PromptStyle("Film", "old photo of {prompt}", "")
    assert styles["choices"] == ["Film", "Sharp"] and name["value"] == "Film" and "Saved style" in note
    styles, _, _ = _handler(demo, "t_save_style")("New one", "x", "y")
    assert styles["choices"] == ["Film", "Sharp", "New one"]
    _, _, note = _handler(demo, "t_save_style")("  ", "x", "y")
    assert "name" in _plain(note) and len(store.load()) == 3
    styles, name, note = _handler(demo, "t_delete_style")("Sharp", ["Sharp", "Film"])
    assert styles["choices"] == ["Film", "New one"] and styles["value"] == ["Film"] and "Deleted" in note
    _, _, note = _handler(demo, "t_delete_style")("Sharp", [])
    assert "no style" in _plain(note)
    store.save([PromptStyle("Other")])
    styles, names = _handler(demo, "t_refresh_styles")(["Film", "Other"])
    assert styles["choices"] == ["Other"] and styles["value"] == ["Other"] and names["choices"] == ["Other"]


def test_page_head_inlines_the_scripts_without_network() -> None:
    head = page_head()
    assert head.count("<script>") == len(list(JS_DIR.glob("*.js"))) + 1 >= 2  # + the button hints' data
    assert "window.sdButtonHints = {" in head and '"random_seed": "Random seed (-1)' in head
    assert "http" not in head and "import(" not in head and " src=" not in head


CASES = [
    ("a red cat", 2, 5, True, "a (red:1.1) cat", "red"),
    ("a (red:1.1) cat", 3, 6, True, "a (red:1.2) cat", "red"),
    ("a (red:1.1) cat", 3, 6, False, "a red cat", "red"),
    ("a red cat", 3, 3, False, "a (red:0.9) cat", "red"),
    ("a (red:1.2) cat", 5, 5, False, "a (red:1.1) cat", "red"),
    ("a (red:1.1) cat", 2, 11, True, "a (red:1.2) cat", "red"),
    ("a (red cat:1.5), dog", 7, 7, True, "a (red cat:1.6), dog", "red cat"),
    ("very long, words", 0, 16, False, "(very long, words:0.9)", "very long, words"),
    ("a  cat", 2, 2, True, "a  cat", ""),
]


def test_edit_attention_script() -> None:
    if shutil.which("node") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node is missing; this test must run under CI")
        pytest.skip("node is not installed")
    script = (JS_DIR / "edit_attention.js").read_text(encoding="utf-8")
    harness = (
        "global.document={addEventListener(){}};global.window={};global.HTMLTextAreaElement=class{};"
        "global.Event=class{constructor(t){this.type=t}};" + script + ";const out=[];"
        f"for (const [text,s,e,up] of {json.dumps([c[:4] for c in CASES])}) {{"
        "const box={value:text,selectionStart:s,selectionEnd:e,events:0,"
        "setSelectionRange(a,b){this.selectionStart=a;this.selectionEnd=b},dispatchEvent(){this.events++}};"
        "window.sdEditAttention(box,up);"
        "out.push([box.value,box.value.slice(box.selectionStart,box.selectionEnd)])}"
        "console.log(JSON.stringify(out))"
    )
    result = subprocess.run(["node", "-e", harness], capture_output=True, text=True, timeout=30, check=True)
    assert json.loads(result.stdout) == [[c[4], c[5]] for c in CASES]


def test_txt2img_tab_has_the_tools_and_generate_applies_selected_styles(make_app) -> None:  # noqa: ANN001
    from modules.ui.blocks import build_ui

    app = make_app(("sd1",))
    StyleStore.in_data_dir(app.settings.data_dir).save([PromptStyle("Sharp", "sharp focus", "blurry")])
    demo = build_ui(app)
    ids = {getattr(block, "elem_id", None): block for block in demo.blocks.values()}
    for elem_id in ("txt2img_token_counter", "txt2img_negative_token_counter", "txt2img_styles",
                    "txt2img_style_apply", "txt2img_edit_style_name", "txt2img_edit_style_save"):
        assert elem_id in ids
    assert [choice[0] for choice in ids["txt2img_styles"].choices] == ["Sharp"]
    assert _plain(_handler(demo, "txt2img_token_counter")("a (red:1.2) fox", 20)) == "3/75"
    final: dict[Any, Any] = {}
    for update in _handler(demo, "txt2img")(prompt="a fox", negative_prompt="", styles=["Sharp"], seed=1,
                                            width=64, height=64, steps=1):
        final.update(update)
    infotext = final[ids["txt2img_infotext"]]
    assert infotext.startswith("a fox, sharp focus\nNegative prompt: blurry\n")
