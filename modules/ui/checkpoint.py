"""The Checkpoint row on top of the page: model list, Refresh, and the model status line.

Choosing a checkpoint loads it in the handler; a failed load shows the error and puts the list back
on the model that stays loaded. A timer keeps the status line (and the list, when the loaded model
or the folder contents change) in step with loads started elsewhere: the background load at start,
another browser tab, later the API.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modules.errors import UserError
from modules.messages import msg
from modules.ui.progress import message_html

if TYPE_CHECKING:
    from modules.app import App

log = logging.getLogger(__name__)

STATUS_POLL_SECONDS = 1.0


def checkpoint_titles(app: App) -> list[str]:
    return [info.title for info in app.folders.checkpoints()]


def current_title(app: App) -> str | None:
    info = app.models.current_info
    return info.title if info is not None else None


def model_status(app: App) -> str:
    return app.models.status or msg("no_model_yet")


@dataclass
class CheckpointRow:
    dropdown: Any
    refresh: Any
    status: Any
    seen: Any  # gr.State: what this browser tab last showed (title, choices, status)
    timer: Any
    vae: Any = None  # SD VAE dropdown: Automatic / None / files in models/VAE


def choose_vae(app: App, choice: str | None) -> tuple[str, str, str]:
    """(value to show, message, kind) after the user picked a VAE; on failure the previous choice stays."""
    vaes = app.networks.vaes
    previous = vaes.selected
    if not choice:
        return previous, "", "info"
    try:
        vaes.select(choice)
        model, info = app.models.current, app.models.current_info
        if model is not None and info is not None:
            # on the job queue's thread, like all torch work (see docs/cpu-threads.md)
            app.jobs.run("apply-vae", lambda _progress: vaes.apply(model, info.path))
        app.options.remember("sd_vae", vaes.selected)
    except UserError as e:
        vaes.selected = previous
        return previous, str(e), "error"
    return choice, f"SD VAE: {choice}", "info"


def _seen(app: App) -> dict[str, Any]:
    return {"title": current_title(app), "choices": checkpoint_titles(app), "status": model_status(app)}


def build_checkpoint_row(app: App) -> CheckpointRow:
    """Create the components (inside the caller's Blocks context) and wire their handlers."""
    import gradio as gr

    with gr.Row(elem_id="quicksettings", equal_height=True):
        dropdown = gr.Dropdown(
            choices=checkpoint_titles(app), value=current_title(app), label="Stable Diffusion checkpoint",
            elem_id="setting_sd_model_checkpoint", interactive=True, scale=4, min_width=320,
        )
        refresh = gr.Button("🔄", elem_id="refresh_sd_model_checkpoint", elem_classes=["sd-tool-button"],
                            scale=0, min_width=40)
        vae = gr.Dropdown(choices=app.networks.vaes.choices(), value=app.networks.vaes.selected, label="SD VAE",
                          elem_id="setting_sd_vae", interactive=True, scale=2, min_width=200)
        status = gr.HTML(message_html(model_status(app)), elem_id="sd_model_status", padding=False)
    seen = gr.State({})
    timer = gr.Timer(STATUS_POLL_SECONDS)
    row = CheckpointRow(dropdown=dropdown, refresh=refresh, status=status, seen=seen, timer=timer, vae=vae)

    def select_vae(choice: str | None) -> tuple[Any, str]:
        value, text, kind = choose_vae(app, choice)
        return gr.update(value=value, choices=app.networks.vaes.choices()), message_html(text, kind) if text else ""

    def select_checkpoint(title: str | None) -> tuple[Any, str]:
        """Load the chosen checkpoint; on failure keep (and show) the one that stays loaded."""
        previous = current_title(app)
        if not title:
            return gr.update(value=previous), message_html(model_status(app))
        try:
            app.jobs.run("load-checkpoint", lambda _progress: app.load_checkpoint(title))  # after running jobs
        except UserError as e:
            return gr.update(value=previous), message_html(str(e), "error")
        except Exception as e:  # noqa: BLE001 - the page must stay usable
            log.exception("loading checkpoint %s failed", title)
            text = msg("checkpoint_failed", name=title, reason=f"{type(e).__name__}: {e}")
            return gr.update(value=previous), message_html(text, "error")
        return gr.update(value=current_title(app)), message_html(model_status(app))

    def refresh_checkpoints() -> tuple[Any, str]:
        """Re-scan the folders; the list keeps the loaded model selected."""
        titles = app.refresh_models()
        text = (msg("models_refreshed", count=len(titles)) if titles
                else msg("no_checkpoint", folder=app.settings.checkpoint_dir))
        return gr.update(choices=titles, value=current_title(app)), message_html(text)

    def refresh_vae_choices() -> Any:
        return gr.update(choices=app.networks.vaes.choices(), value=app.networks.vaes.selected)

    def poll_status(seen: dict[str, Any] | None) -> tuple[Any, Any, dict[str, Any]]:
        """Timer tick: update what changed since this tab last looked, skip the rest."""
        seen = seen or {}
        now = _seen(app)
        list_changed = now["title"] != seen.get("title") or now["choices"] != seen.get("choices")
        dropdown_update = gr.update(choices=now["choices"], value=now["title"]) if list_changed else gr.skip()
        status_update = message_html(now["status"]) if now["status"] != seen.get("status") else gr.skip()
        return dropdown_update, status_update, now

    dropdown.input(select_checkpoint, inputs=dropdown, outputs=[dropdown, status], api_name="select_checkpoint",
                   api_visibility="private", show_progress="minimal")
    vae.input(select_vae, inputs=vae, outputs=[vae, status], api_name="select_vae", api_visibility="private",
              show_progress="minimal")
    refresh.click(refresh_vae_choices, outputs=vae, api_name="refresh_vae_choices", api_visibility="private",
                  show_progress="hidden")
    refresh.click(refresh_checkpoints, outputs=[dropdown, status], api_name="refresh_checkpoints",
                  api_visibility="private", show_progress="hidden")
    timer.tick(poll_status, inputs=seen, outputs=[dropdown, status, seen], api_name="poll_model_status",
               api_visibility="private", show_progress="hidden", queue=False)
    return row
