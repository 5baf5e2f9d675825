"""The page's tabs come from app.registry.tabs: txt2img and img2img first, then registered ones by order."""

from __future__ import annotations

import gradio as gr

from modules.registry import TabSpec
from modules.ui.blocks import build_ui
from tests.ui.test_blocks import component, handler


def _tab_ids(demo: gr.Blocks) -> list[str]:
    return [b.elem_id for b in demo.blocks.values() if isinstance(b, gr.Tab)]


def test_a_registered_tab_is_on_the_page_after_the_core_tabs(make_app) -> None:  # noqa: ANN001
    app = make_app((), load=False)
    built: list[object] = []

    def build_notes(app_: object) -> str:
        built.append(app_)
        gr.Markdown("notes here", elem_id="notes_text")
        return "notes"

    app.registry.tabs.register("notes", TabSpec("notes", "Notes", build_notes), source="my-extension", order=150)
    app.registry.tabs.register("early", TabSpec("early", "Early", lambda _a: gr.Markdown("x")), source="ext",
                               order=100)
    app.registry.tabs.register("plain", TabSpec("plain", "Plain", lambda _a: gr.Markdown("y")), source="ext")
    demo = build_ui(app)
    ids = _tab_ids(demo)
    assert ids.index("tab_txt2img") < ids.index("tab_img2img") < ids.index("tab_plain") < ids.index("tab_early")
    assert ids.index("tab_early") < ids.index("tab_notes")
    assert built == [app] and component(demo, "notes_text").value == "notes here"
    tab = component(demo, "tab_notes")
    assert tab.label == "Notes" and tab.id == "notes"
    # the wiring that needs both generation tabs is still there
    assert handler(demo, "txt2img_paste") and handler(demo, "img2img_paste")


def test_an_extension_tab_that_fails_shows_why_and_the_page_builds(make_app) -> None:  # noqa: ANN001
    app = make_app((), load=False)

    def broken(_app: object) -> None:
        raise KeyError("missing_setting")

    app.registry.tabs.register("broken", TabSpec("broken", "Broken", broken), source="bad-extension", order=100)
    demo = build_ui(app)
    shown = component(demo, "tab_broken_error").value
    assert "Broken" in shown and "bad-extension" in shown and "missing_setting" in shown
    assert "tab_txt2img" in _tab_ids(demo)
