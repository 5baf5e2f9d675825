"""The ↙️ button: read an infotext pasted into the prompt box back into every field, the VAE included."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modules.errors import UserError
from modules.messages import msg
from modules.ui.progress import message_html

if TYPE_CHECKING:
    from modules.app import App
    from modules.ui.binding import ParamBinding


def wire_paste(app: App, tab: str, button: Any, binding: ParamBinding[Any], vae: Any, message: Any,
               overrides: Any) -> None:
    """button reads the prompt box as an A1111 infotext and fills the bound fields, the VAE dropdown and
    the Override settings box (settings it records that differ from the ones in effect).

    The params type of binding decides what is read: img2img's binding also gets Denoising strength,
    Mask blur, Masked content, Inpaint area, ... Fields the infotext does not record keep their values.
    """
    import gradio as gr

    from modules.generation.paste import read_infotext
    from modules.ui.checkpoint import choose_vae
    from modules.ui.generation_panel import override_settings_update

    outputs = [*binding.components.values(), vae, message, overrides]

    def paste(**values: Any) -> dict[Any, Any]:
        text = str(values.get("prompt") or "").strip()
        skip = {component: gr.skip() for component in outputs}
        if not text:
            return {**skip, message: message_html(msg("paste_empty"), "warning")}
        try:
            base = binding.params(values)
        except UserError:
            base = binding.params_type()
        pasted = read_infotext(app, text, base)
        notes = list(pasted.notes)
        vae_update: Any = gr.skip()
        if pasted.vae is not None:
            shown, note, kind = choose_vae(app, pasted.vae)
            vae_update = shown
            if kind != "info":
                notes.append(note)
        labels = [o.label for o in pasted.overrides]
        if labels:
            notes.append(msg("paste_overrides", labels="; ".join(labels)))
        text_out = " ".join([msg("paste_done"), *notes])
        return {**binding.updates(pasted.params), vae: vae_update, overrides: override_settings_update(labels),
                message: message_html(text_out, "warning" if notes else "info")}

    button.click(paste, inputs_kwargs=binding.inputs(), outputs=outputs, api_name=f"{tab}_paste",
                 api_visibility="private", show_progress="hidden", queue=False)
