"""build_ui(app): the whole page as one gr.Blocks. Every handler is a closure over app made here."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modules.app import App
    from modules.registry import TabSpec

log = logging.getLogger(__name__)

PAGE_TITLE = "Stable Diffusion"


def build_ui(app: App) -> Any:
    """The page: checkpoint row on top, then one tab per entry of app.registry.tabs (txt2img and img2img
    first, then what else is registered, by order). Does not start a server."""
    import gradio as gr

    with gr.Blocks(title=PAGE_TITLE, analytics_enabled=False) as demo:
        from modules.ui.checkpoint import build_checkpoint_row

        row = build_checkpoint_row(app)
        built: dict[str, Any] = {}
        with gr.Tabs(elem_id="tabs") as tabs:
            for entry in app.registry.tabs.entries():
                spec = entry.item
                with gr.Tab(spec.label, id=spec.tab_id, elem_id=f"tab_{spec.tab_id}"):
                    built[spec.tab_id] = _build_tab(app, spec, entry.source)
        _wire_generation_tabs(app, demo, row, tabs, built)
        if not app.settings.extensions_allowed:
            from modules.messages import msg
            from modules.ui.progress import message_html

            gr.HTML(message_html(msg("extensions_locked")), elem_id="extensions_locked", padding=False)
    return demo


def _build_tab(app: App, spec: TabSpec, source: str) -> Any:
    """The tab's content; a tab an extension added that fails to build shows why instead (the page stays up)."""
    from modules.registry import CORE

    if source == CORE:
        return spec.build(app)
    try:
        return spec.build(app)
    except Exception as e:  # noqa: BLE001 - an extension's bug must not take the page down
        import gradio as gr

        from modules.messages import msg
        from modules.ui.progress import message_html

        log.exception("tab %s (from %s) failed to build", spec.tab_id, source)
        text = msg("tab_failed", tab=spec.label, source=source, error=f"{type(e).__name__}: {e}")
        gr.HTML(message_html(text, "error"),
                elem_id=f"tab_{spec.tab_id}_error", padding=False)
        return None


def _wire_generation_tabs(app: App, demo: Any, row: Any, tabs: Any, built: dict[str, Any]) -> None:
    """Paste on each generation tab; send-to and the checkpoint's native size across txt2img and img2img."""
    from modules.generation.params import Txt2ImgParams
    from modules.ui.native_size import wire_native_size
    from modules.ui.paste import wire_paste
    from modules.ui.send_to import wire_send_to

    generation = {name: built[name] for name in ("txt2img", "img2img") if name in built}
    for name, tab in generation.items():
        wire_paste(app, name, tab.row.paste, tab.binding, tab.panel.message, tab.overrides, tab.scripts)
    if len(generation) == 2:
        wire_send_to(app, generation["txt2img"], generation["img2img"], tabs)
    if built.get("png_info") is not None:
        from modules.ui.send_to import wire_png_info_send

        wire_png_info_send(app, built["png_info"], built, tabs)
    if generation:
        default = Txt2ImgParams()
        sizes = [tab.binding.components[name] for tab in generation.values() for name in ("width", "height")]
        wire_native_size(app, demo, row.dropdown, sizes, (default.width, default.height))
