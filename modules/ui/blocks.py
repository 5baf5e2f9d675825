"""build_ui(app): the whole page as one gr.Blocks. Every handler is a closure over app made here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modules.app import App

PAGE_TITLE = "Stable Diffusion"


def build_ui(app: App) -> Any:
    """The page: checkpoint row on top, then the tabs txt2img and img2img. Does not start a server."""
    import gradio as gr

    from modules.generation.params import Txt2ImgParams
    from modules.ui.checkpoint import build_checkpoint_row
    from modules.ui.img2img_tab import build_img2img_tab
    from modules.ui.native_size import wire_native_size
    from modules.ui.paste import wire_paste
    from modules.ui.send_to import wire_send_to
    from modules.ui.txt2img_tab import build_txt2img_tab

    with gr.Blocks(title=PAGE_TITLE, analytics_enabled=False) as demo:
        row = build_checkpoint_row(app)
        with gr.Tabs(elem_id="tabs") as tabs:
            with gr.Tab("txt2img", id="txt2img", elem_id="tab_txt2img"):
                txt2img = build_txt2img_tab(app)
            with gr.Tab("img2img", id="img2img", elem_id="tab_img2img"):
                img2img = build_img2img_tab(app)
        for name, tab in (("txt2img", txt2img), ("img2img", img2img)):
            wire_paste(app, name, tab.row.paste, tab.binding, row.vae, tab.panel.message, tab.overrides)
        wire_send_to(app, txt2img, img2img, tabs)
        default = Txt2ImgParams()
        sizes = [tab.binding.components[name] for tab in (txt2img, img2img) for name in ("width", "height")]
        wire_native_size(app, demo, row.dropdown, sizes, (default.width, default.height))
        if not app.settings.extensions_allowed:
            from modules.messages import msg
            from modules.ui.progress import message_html

            gr.HTML(message_html(msg("extensions_locked")), elem_id="extensions_locked", padding=False)
    return demo
