"""The ↙️ button: read an infotext pasted into the prompt box back into the tab's fields and overrides.

What the infotext records beyond the fields (a setting such as Noise Schedule, and its VAE) goes into
the tab's Override settings box, as in A1111: it applies to this tab's next generations in this
browser only, the user can remove it there, and the app-wide settings (the SD VAE dropdown) stay.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from modules.errors import UserError
from modules.messages import msg
from modules.ui.progress import message_html

if TYPE_CHECKING:
    from modules.app import App
    from modules.ui.binding import ParamBinding

VAE_KEY = "VAE"  # the Override settings label of a VAE choice: 'VAE: name.safetensors'


def vae_label(choice: str) -> str:
    return f"{VAE_KEY}: {choice}"


def split_overrides(labels: Iterable[str] | None) -> tuple[dict[str, Any], str | None]:
    """(run options, VAE choice or None) of the Override settings box's labels; InvalidParams for a label
    this version does not know."""
    from modules.generation.override_settings import options_from_labels

    rest: list[str] = []
    vae: str | None = None
    for label in labels or ():
        key, sep, value = str(label).partition(":")
        if sep and key.strip() == VAE_KEY and value.strip():
            vae = value.strip()
        else:
            rest.append(str(label))
    return options_from_labels(rest), vae


def wire_paste(app: App, tab: str, button: Any, binding: ParamBinding[Any], message: Any, overrides: Any) -> None:
    """button reads the prompt box as an A1111 infotext and fills the bound fields and the Override settings
    box (the settings it records that differ from the ones in effect, and its VAE when that file is here).

    The params type of binding decides what is read: img2img's binding also gets Denoising strength,
    Mask blur, Masked content, Inpaint area, ... Fields the infotext does not record keep their values.
    """
    import gradio as gr

    from modules.generation.paste import read_infotext
    from modules.ui.generation_panel import override_settings_update

    outputs = [*binding.components.values(), message, overrides]

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
        labels = [o.label for o in pasted.overrides]
        if pasted.vae is not None and pasted.vae != app.networks.vaes.selected:
            labels.append(vae_label(pasted.vae))  # this tab's runs only; the app's SD VAE stays
        if labels:
            notes.append(msg("paste_overrides", labels="; ".join(labels)))
        text_out = " ".join([msg("paste_done"), *notes])
        return {**binding.updates(pasted.params), overrides: override_settings_update(labels),
                message: message_html(text_out, "warning" if notes else "info")}

    button.click(paste, inputs_kwargs=binding.inputs(), outputs=outputs, api_name=f"{tab}_paste",
                 api_visibility="private", show_progress="hidden", queue=False)
