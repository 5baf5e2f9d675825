"""The Extensions tab without a browser: its table, the enabled choice (Apply), install, and the lock
under --listen; its place on the page."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import gradio as gr

from modules.app import App, build_app
from modules.messages import msg
from modules.settings import Settings
from modules.ui.extensions_tab import build_extensions_tab, extension_rows
from tests.extension_kit import write_extension

GOOD = "def register(ext):\n    ext.registry.upscalers.register('Tab upscaler', 1)\n"


def text_of(value: Any) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", str(value)))


def make(tmp_path: Path, **flags: object) -> App:
    root = tmp_path / "extensions"
    write_extension(root, "good-ext", GOOD)
    write_extension(root, "broken-ext", "raise ValueError('bad config')\n")
    write_extension(root, "off-ext", GOOD)
    (tmp_path / "config.json").write_text(json.dumps({"disabled_extensions": ["off-ext"]}))
    return build_app(Settings(data_dir=tmp_path, device="cpu", demo_checkpoint=None, **flags))


def tab_of(app: App) -> tuple[gr.Blocks, Any]:
    with gr.Blocks() as demo:
        tab = build_extensions_tab(app)
    return demo, tab


def handler(demo: gr.Blocks, api_name: str) -> Any:
    found = [f.fn for f in demo.fns.values() if f.api_name == api_name]
    assert len(found) == 1
    return found[0]


def test_the_table_lists_status_what_was_registered_and_errors(tmp_path: Path) -> None:
    app = make(tmp_path)
    _demo, tab = tab_of(app)
    rows = {r.name: r for r in extension_rows(app)}
    assert (rows["good-ext"].status, rows["good-ext"].details, rows["good-ext"].enabled) == \
        ("loaded", "upscaler: Tab upscaler", True)
    assert rows["broken-ext"].status == "failed"
    assert rows["broken-ext"].details == "ValueError: bad config (extension.py, line 1)"
    assert (rows["off-ext"].status, rows["off-ext"].enabled) == ("disabled", False)
    table = text_of(tab.table.value)
    for text in ("good-ext", "upscaler: Tab upscaler", "ValueError: bad config (extension.py, line 1)", "disabled"):
        assert text in table
    assert [c[0] for c in tab.enabled.choices] == ["broken-ext", "good-ext", "off-ext"]
    assert tab.enabled.value == ["broken-ext", "good-ext"]


def test_apply_saves_the_disabled_list_and_says_restart(tmp_path: Path) -> None:
    app = make(tmp_path)
    demo, _tab = tab_of(app)
    message, table, enabled = handler(demo, "extensions_apply")(["off-ext"])
    assert text_of(message).strip() == msg("extensions_applied", disabled="broken-ext, good-ext")
    assert json.loads((tmp_path / "config.json").read_text())["disabled_extensions"] == ["broken-ext", "good-ext"]
    assert enabled["value"] == ["off-ext"]
    assert "loaded" in text_of(table)  # the status is the start's until the restart
    restarted = build_app(app.settings)
    assert [(i.name, i.status) for i in restarted.extensions.found] == [
        ("broken-ext", "disabled"), ("good-ext", "disabled"), ("off-ext", "loaded")]


def test_install_from_a_folder_shows_it_as_not_loaded_yet(tmp_path: Path) -> None:
    app = make(tmp_path)
    demo, _tab = tab_of(app)
    source = write_extension(tmp_path / "elsewhere", "new-ext", GOOD)
    message, table, enabled = handler(demo, "extensions_install")(str(source), "", "")
    target = tmp_path / "extensions" / "new-ext"
    assert text_of(message).strip() == msg("extension_installed", name="new-ext", path=target)
    assert "new-ext" in enabled["choices"] and "new-ext" in enabled["value"]
    assert "not loaded yet (restart to load)" in text_of(table)
    message, _table, _enabled = handler(demo, "extensions_install")(str(source), "", "")
    assert "already exists" in text_of(message)


def test_under_listen_the_tab_shows_the_lock_and_refuses(tmp_path: Path) -> None:
    app = make(tmp_path, listen=True)
    demo, tab = tab_of(app)
    notes = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "extensions_tab_locked"]
    assert len(notes) == 1 and msg("extensions_locked") in text_of(notes[0].value)
    assert not tab.install.interactive and not tab.apply.interactive
    message, _table, _enabled = handler(demo, "extensions_apply")([])
    assert text_of(message).strip() == msg("extensions_locked")
    assert json.loads((tmp_path / "config.json").read_text())["disabled_extensions"] == ["off-ext"]
    message, _table, _enabled = handler(demo, "extensions_install")(str(tmp_path / "extensions" / "good-ext"), "", "x")
    assert text_of(message).strip() == msg("extensions_locked")
    assert not (tmp_path / "extensions" / "x").exists()


def test_the_tab_is_on_the_page_after_the_others(tmp_path: Path) -> None:
    from modules.ui.blocks import build_ui

    app = make(tmp_path)
    demo = build_ui(app)
    tabs = [b for b in demo.blocks.values() if isinstance(b, gr.Tab)]
    assert [t.elem_id for t in tabs][-1] == "tab_extensions"
    assert any(getattr(b, "elem_id", None) == "extensions_table" for b in demo.blocks.values())
    empty = build_app(Settings(data_dir=tmp_path / "other", device="cpu", demo_checkpoint=None))
    assert text_of(tab_of(empty)[1].table.value).strip() == msg("extensions_none",
                                                                folder=tmp_path / "other" / "extensions")


def test_a_tab_an_extension_registers_is_on_the_page(tmp_path: Path) -> None:
    from modules.ui.blocks import build_ui

    write_extension(tmp_path / "extensions", "tabbed", """
        from modules.registry import TabSpec

        def build(app):
            import gradio as gr

            return gr.Markdown("Hello from an extension", elem_id="tabbed_hello")

        def register(ext):
            ext.registry.tabs.register("tabbed", TabSpec("tabbed", "Tabbed", build), order=100)
    """)
    app = build_app(Settings(data_dir=tmp_path, device="cpu", demo_checkpoint=None))
    demo = build_ui(app)
    tabs = [b.elem_id for b in demo.blocks.values() if isinstance(b, gr.Tab)]
    assert tabs[-2:] == ["tab_tabbed", "tab_extensions"]
    hello = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "tabbed_hello"]
    assert len(hello) == 1 and hello[0].value == "Hello from an extension"
