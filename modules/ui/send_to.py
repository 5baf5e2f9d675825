"""Send buttons: txt2img's "🖼️ Send to img2img" / "🎨️ Send to inpaint" (the selected image and its parameters
go to img2img), and PNG Info's "Send to txt2img / img2img / inpaint / extras" (wire_png_info_send).

The image (the selected gallery item's PNG; the first image when the grid is selected) becomes the img2img image or the Inpaint editor's
background; its infotext fills img2img's fields as ↙️ would (fields it does not record keep their
values); the page switches to the img2img tab and the chosen sub-tab.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from modules.errors import UserError
from modules.messages import msg
from modules.ui.generation_stream import selected_item
from modules.ui.progress import message_html

if TYPE_CHECKING:
    from PIL import Image

    from modules.app import App
    from modules.ui.img2img_tab import Img2ImgTab
    from modules.ui.png_info_tab import PngInfoTab
    from modules.ui.txt2img_tab import Txt2ImgTab


def load_image(path: str | Path) -> Image.Image | None:
    """The PNG at path, read fully (the file is closed); None when it is gone or unreadable."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            return image.copy()
    except (OSError, UnidentifiedImageError):
        return None


def wire_send_to(app: App, source: Txt2ImgTab, target: Img2ImgTab, tabs: Any) -> None:
    """Connect source's send buttons to the target tab; tabs is the page's top-level gr.Tabs."""
    import gradio as gr

    from modules.generation.paste import read_infotext
    from modules.ui.generation_panel import override_settings_update
    from modules.ui.img2img_tab import set_mode

    binding, inputs = target.binding, target.inputs
    outputs = [*binding.components.values(), inputs.image, inputs.editor, tabs, inputs.mode_tabs, inputs.mode,
               inputs.inpaint_controls, target.overrides, target.panel.message, source.panel.message]

    def sender(mode: str) -> Any:
        def send(gen_info: dict[str, Any], selected: int, **values: Any) -> dict[Any, Any]:
            skip = {component: gr.skip() for component in outputs}
            if (gen_info or {}).get("grid") and selected == 0:
                selected = 1  # the grid is selected: send the first image instead
            path = selected_item(gen_info, selected, "paths")
            if path is None:
                return {**skip, source.panel.message: message_html(msg("send_no_image"), "warning")}
            image = load_image(path)
            if image is None:
                return {**skip, source.panel.message: message_html(msg("send_image_gone", name=path), "error")}
            try:
                base = binding.params(values)
            except UserError:
                base = binding.params_type()
            pasted = read_infotext(app, selected_item(gen_info, selected, "infotexts") or "", base)
            mode_state, visibility = set_mode(mode)
            picture = {inputs.image: image} if mode == "img2img" else {
                inputs.editor: {"background": image, "layers": [], "composite": image}}
            return {**skip, **binding.updates(pasted.params), **picture,
                    target.overrides: override_settings_update([o.label for o in pasted.overrides]), tabs: gr.update(selected="img2img"),
                    inputs.mode_tabs: gr.update(selected=mode), inputs.mode: mode_state,
                    inputs.inpaint_controls: visibility, target.panel.message: message_html(msg("sent_to_img2img")),
                    source.panel.message: ""}

        return send

    kwargs = {"gen_info": source.panel.gen_info, "selected": source.panel.selected, **binding.inputs()}
    for button, mode in ((source.panel.send_to_img2img, "img2img"), (source.panel.send_to_inpaint, "inpaint")):
        if button is not None:
            button.click(sender(mode), inputs_kwargs=kwargs, outputs=outputs, api_name=f"txt2img_send_to_{mode}",
                         api_visibility="private", show_progress="hidden", queue=False)


def wire_png_info_send(app: App, source: PngInfoTab, built: dict[str, Any], tabs: Any) -> None:
    """PNG Info's send buttons: the infotext fills txt2img / img2img / Inpaint (and the image goes to the
    img2img box or the Inpaint editor); Extras gets the image. A target whose tab is not registered has no
    button (png_info_tab); one whose tab failed to build leaves its button unwired."""
    import gradio as gr

    from modules.ui.img2img_tab import set_mode
    from modules.ui.paste import infotext_updates
    from modules.ui.png_info_tab import target_tab

    def sender(target: str, tab: Any) -> Any:
        binding = tab.binding
        extra = [tab.inputs.image, tab.inputs.editor, tab.inputs.mode_tabs, tab.inputs.mode,
                 tab.inputs.inpaint_controls] if target != "txt2img" else []
        outputs = [*binding.components.values(), tab.overrides, tabs, tab.panel.message, source.message, *extra]

        def send(text: str, path: str | None, **values: Any) -> dict[Any, Any]:
            skip = {component: gr.skip() for component in outputs}
            if not (text or "").strip():
                return {**skip, source.message: message_html(msg("png_info_no_params"), "warning")}
            updates, notes = infotext_updates(app, binding, tab.overrides, text, values)
            picture: dict[Any, Any] = {}
            if target != "txt2img":
                image = load_image(path) if path else None
                mode_state, visibility = set_mode(target)
                picture = {tab.inputs.mode_tabs: gr.update(selected=target), tab.inputs.mode: mode_state,
                           tab.inputs.inpaint_controls: visibility}
                if image is not None:
                    picture[tab.inputs.image if target == "img2img" else tab.inputs.editor] = (
                        image if target == "img2img" else {"background": image, "layers": [], "composite": image})
            sent = " ".join([msg("png_info_sent", tab=target), *notes])
            return {**skip, **updates, **picture, tabs: gr.update(selected=target_tab(target)),
                    tab.panel.message: message_html(sent, "warning" if notes else "info"), source.message: ""}

        return send, outputs

    for target, button in source.send.items():
        tab = built.get(target_tab(target))
        if tab is None:
            continue
        if target == "extras":
            _wire_send_to_extras(source, tab, button, tabs)
            continue
        send, outputs = sender(target, tab)
        button.click(send, inputs_kwargs={"text": source.infotext, "path": source.image, **tab.binding.inputs()},
                     outputs=outputs, api_name=f"png_info_send_to_{target}", api_visibility="private",
                     show_progress="hidden", queue=False)


def _wire_send_to_extras(source: PngInfoTab, extras: Any, button: Any, tabs: Any) -> None:
    """PNG Info's "Send to extras": the dropped image goes to Extras' Single Image box (parameters are not
    Extras' business)."""
    import gradio as gr

    outputs = [extras.single_image, extras.mode_tabs, extras.message, tabs, source.message]

    def send(path: str | None) -> dict[Any, Any]:
        image = load_image(path) if path else None
        if image is None:
            return {**{component: gr.skip() for component in outputs},
                    source.message: message_html(msg("png_info_empty"), "warning")}
        return {extras.single_image: image, extras.mode_tabs: gr.update(selected="single"), tabs: gr.update(
            selected="extras"), extras.message: message_html(msg("png_info_sent_extras")), source.message: ""}

    button.click(send, inputs=source.image, outputs=outputs, api_name="png_info_send_to_extras",
                 api_visibility="private", show_progress="hidden", queue=False)
