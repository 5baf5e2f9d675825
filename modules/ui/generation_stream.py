"""What every generation tab does with a job: queue its request, stream its progress, show its result.

submit_request turns the tab's values into a GenerationRequest (the rules are modules/generation/resolve.py's,
the same as the API's and the command line's), checks it and queues it. stream_job follows one queued
job of this browser session: while it waits it shows its place in the queue, then its own progress
every POLL_SECONDS and the live preview in the gallery; then the gallery (grid first when there is one,
as A1111 does), the infotext of the first image and the result message. A failing job gives a
message, never an exception in the page.
wire_job_controls connects Interrupt and Skip (not queued, so they act at once, on this session's
jobs only), gallery selection (its infotext) and the 🎲/♻️ seed buttons.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import gradio as gr

from modules.errors import UserError
from modules.generation.preview import live_preview
from modules.messages import msg
from modules.ui.progress import job_progress_html, message_html, progress_html

if TYPE_CHECKING:
    from modules.app import App
    from modules.generation.params import GenerationParams
    from modules.generation.pipeline import GenerationResult
    from modules.generation.request import Outcome
    from modules.jobs import Job
    from modules.scripts.base import ScriptRun
    from modules.ui.generation_panel import PromptRow, ResultPanel, SeedControls

log = logging.getLogger(__name__)

POLL_SECONDS = 0.4


def session_owner(request: gr.Request | None) -> str:
    """The job owner key of one browser session (one page load); 'ui:local' when called without one."""
    session = getattr(request, "session_hash", None) if request is not None else None
    return f"ui:{session or 'local'}"


def submit_request(app: App, kind: str, params: GenerationParams, styles: list[str] | None,
                   override_labels: list[str] | None, owner: str, scripts: ScriptRun | None = None) -> Job[Outcome]:
    """Queue the tab's generation: every field as the tab shows it (the caller's own values), its selected
    styles, its Override settings box (run options, and a VAE for this tab's runs only) and its scripts
    (the Script dropdown's choice, the always-on scripts). UserError (unknown style, value out of range,
    a bad script argument, ...) before anything is queued."""
    from dataclasses import fields

    from modules.generation.request import GenerationRequest
    from modules.generation.resolve import check, submit
    from modules.ui.paste import split_checkpoint, split_overrides

    labels, checkpoint = split_checkpoint(override_labels)  # 'Checkpoint: title' (PNG Info's send): this job only
    options, vae = split_overrides(labels)
    request = GenerationRequest(kind=kind, params=params, explicit=frozenset(f.name for f in fields(params)),
                                styles=tuple(styles or ()), options=options, vae=vae, owner=owner, scripts=scripts,
                                checkpoint=checkpoint)
    check(app, request)
    return submit(app, request)


def gallery_info(result: GenerationResult) -> tuple[list[Any], dict[str, list[Any]]]:
    """Gallery items (grid first, then the images) and the infotext/seed/path of each item ("grid": one is first).

    Items are the saved files; when some images were not saved (Settings: saving off, or a script's grid
    not saved), the images themselves are shown, so every item keeps its own infotext (their path is None:
    Send to img2img then says there is no file)."""
    saved = len(result.paths) >= len(result.images)  # a folder batch keeps only the files
    items: list[Any] = [str(p) for p in result.paths] if saved else list(result.images)
    paths: list[Any] = list(items) if saved else [None] * len(items)
    grid = result.grid_path is not None and bool(result.infotexts)
    infotexts = list(result.infotexts)
    seeds = list(result.seeds)
    if grid:
        items.insert(0, str(result.grid_path))
        paths.insert(0, str(result.grid_path))
        infotexts.insert(0, result.infotexts[0])
        seeds.insert(0, result.seeds[0])
    return items, {"infotexts": infotexts, "seeds": seeds, "paths": paths, "grid": grid}


def error_update(panel: ResultPanel, text: str) -> dict[Any, Any]:
    """Clears the progress bar and shows text as an error."""
    return {panel.progress: "", panel.message: message_html(text, "error")}


def stream_job(app: App, job: Job[Outcome], panel: ResultPanel, what: str) -> Iterator[dict[Any, Any]]:
    """Updates ({component: value}) for the panel while job waits and runs, then its result."""
    ahead = app.jobs.position(job)
    first = msg("waiting_for_job", ahead=ahead) if ahead else msg("starting_job")
    yield {panel.message: "", panel.progress: progress_html(0, first)}
    shown, shown_preview = first, -1
    while not job.wait(POLL_SECONDS):
        ahead = app.jobs.position(job)
        if ahead:
            text = msg("waiting_for_job", ahead=ahead)
            if text != shown:
                shown = text
                yield {panel.progress: progress_html(0, text)}
        elif job.progress.active and job.progress.total_steps:
            update = {panel.progress: job_progress_html(job.progress)}
            preview = live_preview(job.progress, app.options)
            if preview is not None and job.progress.preview_step != shown_preview:
                shown_preview = job.progress.preview_step
                update[panel.gallery] = [preview]
            yield update
    try:
        result = job.result().result
    except UserError as e:
        yield error_update(panel, str(e))
        return
    except Exception as e:  # noqa: BLE001 - shown to the user; the queue has already moved on
        log.error("%s failed", what, exc_info=e)
        yield error_update(panel, msg("unexpected_error", error=f"{type(e).__name__}: {e}"))
        return
    items, info = gallery_info(result)
    yield {panel.progress: "", panel.gallery: items, panel.infotext: info["infotexts"][0] if items else "",
           panel.message: message_html(result.message, "warning" if result.warnings else "info"),
           panel.gen_info: info, panel.selected: 0}


def selected_item(info: dict[str, Any] | None, selected: int, key: str) -> Any:
    """The gen_info entry (infotexts/seeds/paths) of the selected gallery item; the first when out of range."""
    values = (info or {}).get(key, [])
    if not values:
        return None
    return values[selected] if 0 <= selected < len(values) else values[0]


def wire_job_controls(app: App, tab: str, row: PromptRow, panel: ResultPanel, seeds: SeedControls) -> None:
    """Interrupt, Skip, gallery selection and the seed buttons of one tab (api names '<tab>_interrupt', ...)."""

    def interrupt(request: gr.Request | None = None) -> None:
        app.jobs.interrupt(owner=session_owner(request))

    def skip(request: gr.Request | None = None) -> None:
        app.jobs.skip(owner=session_owner(request))

    def select_image(info: dict[str, Any], evt: gr.SelectData) -> tuple[Any, int]:
        texts = (info or {}).get("infotexts", [])
        index = evt.index if isinstance(evt.index, int) else 0
        return (texts[index] if 0 <= index < len(texts) else gr.skip()), index

    def random_seed() -> int:
        return -1

    def reuse_seed(info: dict[str, Any], selected: int) -> Any:
        seed = selected_item(info, selected, "seeds")
        return gr.skip() if seed is None else seed

    quick = {"api_visibility": "private", "show_progress": "hidden", "queue": False}
    row.interrupt.click(interrupt, queue=False, api_name=f"{tab}_interrupt", api_visibility="private")
    row.skip.click(skip, queue=False, api_name=f"{tab}_skip", api_visibility="private")
    panel.gallery.select(select_image, inputs=panel.gen_info, outputs=[panel.infotext, panel.selected],
                         api_name=f"{tab}_select_image", **quick)
    seeds.random_seed.click(random_seed, outputs=seeds.seed, api_name=f"{tab}_random_seed", **quick)
    seeds.reuse_seed.click(reuse_seed, inputs=[panel.gen_info, panel.selected], outputs=seeds.seed,
                           api_name=f"{tab}_reuse_seed", **quick)
