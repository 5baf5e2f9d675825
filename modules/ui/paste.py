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
    from modules.ui.script_controls import ScriptControls

VAE_KEY = "VAE"  # the Override settings label of a VAE choice: 'VAE: name.safetensors'


def vae_label(choice: str) -> str:
    return f"{VAE_KEY}: {choice}"


CHECKPOINT_KEY = "Checkpoint"  # a checkpoint for this tab's runs only (PNG Info's send): 'Checkpoint: title'


def checkpoint_label(title: str) -> str:
    return f"{CHECKPOINT_KEY}: {title}"


def split_checkpoint(labels: Iterable[str] | None) -> tuple[list[str], str | None]:
    """(the other labels, the checkpoint a 'Checkpoint: title' label of the Override settings box names, or None)."""
    rest: list[str] = []
    checkpoint: str | None = None
    for label in labels or ():
        key, sep, value = str(label).partition(":")
        if sep and key.strip() == CHECKPOINT_KEY and value.strip():
            checkpoint = value.strip()
        else:
            rest.append(str(label))
    return rest, checkpoint


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


def wire_paste(app: App, tab: str, button: Any, binding: ParamBinding[Any], message: Any, overrides: Any,
               scripts: ScriptControls | None = None) -> None:
    """button reads the prompt box as an A1111 infotext and fills the bound fields and the Override settings
    box (the settings it records that differ from the ones in effect, and its VAE when that file is here),
    and, given the tab's scripts, selects the script the infotext records with its arguments (an X/Y/Z
    grid's "Script: X/Y/Z plot, X Type: ...": Script.args_from_infotext).

    The params type of binding decides what is read: img2img's binding also gets Denoising strength,
    Mask blur, Masked content, Inpaint area, ... Fields the infotext does not record keep their values.
    """
    import gradio as gr

    from modules.scripts.select import script_from_infotext

    outputs = [*binding.components.values(), message, overrides, *(scripts.paste_outputs() if scripts else [])]

    def paste(**values: Any) -> dict[Any, Any]:
        text = str(values.get("prompt") or "").strip()
        skip = {component: gr.skip() for component in outputs}
        if not text:
            return {**skip, message: message_html(msg("paste_empty"), "warning")}
        updates, notes = infotext_updates(app, binding, overrides, text, values, checkpoint=False)
        text_out = " ".join([msg("paste_done"), *notes])
        script = script_from_infotext(app, tab, text) if scripts is not None else None
        chosen = scripts.paste_updates(*script) if scripts is not None and script is not None else {}
        return {**updates, message: message_html(text_out, "warning" if notes else "info"), **chosen}

    button.click(paste, inputs_kwargs=binding.inputs(), outputs=outputs, api_name=f"{tab}_paste",
                 api_visibility="private", show_progress="hidden", queue=False)


def infotext_checkpoint(app: App, text: str) -> tuple[str | None, list[str]]:
    """(the title of the checkpoint an infotext names by 'Model hash' or 'Model' when it is here and not the
    loaded one, notes): a checkpoint named but not found gives a note and None."""
    from modules.generation.infotext import parse_infotext

    info = parse_infotext(text)
    named = [info[key].strip() for key in ("Model hash", "Model") if info.get(key, "").strip()]
    for query in named:
        found = app.folders.find_checkpoint(query)
        if found is not None:
            return (None if found == app.models.current_info else found.title), []
    return None, [msg("png_info_checkpoint_missing", name=named[-1])] if named else []


def infotext_updates(app: App, binding: ParamBinding[Any], overrides: Any, text: str,
                     values: dict[str, Any], *, checkpoint: bool = True) -> tuple[dict[Any, Any], list[str]]:
    """({component: value} filling binding's fields from text and the Override settings box with the settings,
    VAE and (checkpoint: True, PNG Info's sends) checkpoint it records that differ from the ones in effect;
    notes for the page): what ↙️ and the send buttons fill."""
    from modules.generation.paste import read_infotext
    from modules.ui.generation_panel import override_settings_update

    try:
        base = binding.params(values)
    except UserError:
        base = binding.params_type()
    pasted = read_infotext(app, text, base)
    notes = list(pasted.notes)
    labels = [o.label for o in pasted.overrides]
    if pasted.vae is not None and pasted.vae != app.networks.vaes.selected:
        labels.append(vae_label(pasted.vae))  # this tab's runs only; the app's SD VAE stays
    if checkpoint:
        title, checkpoint_notes = infotext_checkpoint(app, text)
        notes.extend(checkpoint_notes)
        if title is not None:
            labels.append(checkpoint_label(title))
    if labels:
        notes.append(msg("paste_overrides", labels="; ".join(labels)))
    return {**binding.updates(pasted.params), overrides: override_settings_update(labels)}, notes
