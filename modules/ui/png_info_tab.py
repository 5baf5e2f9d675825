"""The PNG Info tab: drop an image, read the generation parameters it carries, send them to another tab.

The image (PNG text chunk 'parameters'; JPEG and WebP: EXIF UserComment) is read by
modules/image_input.image_info, the reader /sdapi/v1/png-info uses too. The tab shows every parameter
as a table (A1111's keys and this app's alike, in the order written) with the raw text under it, and
the image's other text items. The send buttons fill txt2img, img2img or Inpaint as ↙️ would (fields it
does not record keep their values; recorded settings, the VAE and the checkpoint named by 'Model hash' /
'Model' go to the target's Override settings box) and Extras gets the image.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gradio as gr

from modules.errors import UserError
from modules.messages import msg
from modules.ui.progress import message_html

if TYPE_CHECKING:
    from modules.app import App
    from modules.image_input import ImageInfo

TAB = "png_info"
HIDDEN_KEYS = ("Size-1", "Size-2", "Prompt", "Negative prompt")  # shown once, as Size / the prompts first
TARGETS = {"txt2img": "Send to txt2img", "img2img": "Send to img2img", "inpaint": "Send to inpaint",
           "extras": "Send to extras"}


@dataclass
class PngInfoTab:
    image: Any  # gr.Image (type "filepath": the file as dropped, its metadata intact)
    table: Any  # gr.HTML: the parameters as a table, then the other text items
    infotext: Any  # gr.Textbox: the raw infotext
    message: Any  # gr.HTML
    send: dict[str, Any] = field(default_factory=dict)  # target → button (TARGETS keys)


def target_tab(target: str) -> str:
    """The page tab a send target lives in (Inpaint is a sub-tab of img2img)."""
    return "img2img" if target == "inpaint" else target


def parameter_rows(info: ImageInfo) -> list[tuple[str, str]]:
    """(key, value) rows of an image's parameters: Prompt and Negative prompt first, then every key in the
    order the infotext writes them (WxH keys once, without their '-1'/'-2' halves)."""
    params = info.parameters
    rows = [(key, params[key]) for key in ("Prompt", "Negative prompt") if params.get(key)]
    rows += [(key, value) for key, value in params.items()
             if key not in HIDDEN_KEYS and not (key[-2:] in ("-1", "-2") and key[:-2] in params)]
    return rows


def info_html(info: ImageInfo) -> str:
    """The parameters table (and the image's other text items) as escaped HTML."""
    def table(rows: list[tuple[str, object]], elem_class: str) -> str:
        body = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
        return f'<table class="sd-pnginfo-table {elem_class}">{body}</table>'

    parts = []
    rows = parameter_rows(info)
    if rows:
        parts.append(table(list(rows), "sd-pnginfo-parameters"))
    others = [(k, v) for k, v in info.items.items() if str(v).strip()]
    if others:
        parts.append(f"<h4>{html.escape(msg('png_info_other_items'))}</h4>" + table(others, "sd-pnginfo-items"))
    return "".join(parts)


def read_dropped(path: str | None) -> tuple[str, str, str]:
    """(table HTML, raw infotext, message HTML) for the file at path (None: the box was cleared)."""
    from pathlib import Path

    from modules.image_input import image_info, read_path

    if not path:
        return "", "", message_html(msg("png_info_empty"))
    try:
        info = image_info(read_path(Path(path), msg("png_info_label")))
    except UserError as e:
        return "", "", message_html(str(e), "error")
    if not info.infotext.strip():
        return info_html(info), "", message_html(msg("png_info_none"), "warning")
    return info_html(info), info.infotext, ""


def build_png_info_tab(app: App) -> PngInfoTab:
    """Create the tab's components (inside the caller's Tab context) and wire the reading; the send buttons
    are wired by wire_png_info_send once the other tabs exist."""
    with gr.Row(elem_id=f"{TAB}_main"):
        with gr.Column(scale=1, min_width=320):
            image = gr.Image(label="Source", type="filepath", image_mode=None, sources=["upload", "clipboard"],
                             height=480, elem_id="pnginfo_image")
        with gr.Column(scale=1, min_width=320):
            message = gr.HTML(message_html(msg("png_info_empty")), elem_id="pnginfo_message", padding=False)
            table = gr.HTML("", elem_id="pnginfo_html", padding=False)
            infotext = gr.Textbox(label="Generation parameters", lines=4, max_lines=16, interactive=False,
                                  elem_id="pnginfo_generation_info", buttons=["copy"])
            with gr.Row(elem_id="pnginfo_send_buttons"):
                send = {target: gr.Button(label, elem_id=f"pnginfo_send_{target}", size="sm")
                        for target, label in TARGETS.items() if app.registry.tabs.get(target_tab(target)) is not None}
    image.change(read_dropped, inputs=image, outputs=[table, infotext, message], api_name=f"{TAB}_read",
                 api_visibility="private", show_progress="hidden", queue=False)
    return PngInfoTab(image=image, table=table, infotext=infotext, message=message, send=send)
