"""txt2img's "🖼️ Send to img2img" and "🎨️ Send to inpaint": the selected image and its parameters go to img2img.

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
