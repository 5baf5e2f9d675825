"""The Extras tab (A1111's postprocessing): upscale a single image, a batch of uploaded images or every image
of a folder, by a factor or to a size (crop to fit), with Upscaler 1 and a second one blended in by "Upscaler 2
visibility". The work is modules/extras/run.py's, queued as a job with the generations; results are saved to
outputs/extras-images (or the output folder) with their own infotext.

The tab object (what the page keeps in built["extras"]) has `single_image` (gr.Image, type "pil": where
"Send to extras" puts an image) and `mode_tabs` (gr.Tabs with ids "single", "batch", "folder").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from modules.errors import UserError
from modules.extras.params import MAX_SCALE, NONE, SIZE_RANGE, ExtrasParams
from modules.messages import msg
from modules.ui.progress import message_html

if TYPE_CHECKING:
    from modules.app import App
    from modules.extras.run import ExtrasRun

log = logging.getLogger(__name__)

TAB = "extras"
MODES = ("single", "batch", "folder")
RESIZE_TABS = ("by", "to")
POLL_SECONDS = 0.3


@dataclass
class ExtrasTab:
    single_image: Any  # gr.Image (type "pil")
    mode_tabs: Any  # gr.Tabs: "single", "batch", "folder"
    mode: Any  # gr.State: the selected one of MODES
    batch_files: Any
    input_dir: Any
    output_dir: Any
    resize_mode: Any  # gr.State: "by" / "to"
    upscaling_resize: Any
    width: Any
    height: Any
    crop: Any
    upscaler_1: Any
    upscaler_2: Any
    visibility: Any
    refresh: Any
    run: Any
    gallery: Any
    infotext: Any
    message: Any


def upscaler_names(app: App) -> list[str]:
    return app.registry.upscalers.names()


def build_extras_tab(app: App) -> ExtrasTab:
    mode = gr.State("single")
    resize_mode = gr.State("by")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1):
            with gr.Tabs(elem_id="mode_extras", selected="single") as mode_tabs:
                with gr.Tab("Single Image", id="single", elem_id="extras_single_tab") as single_tab:
                    single_image = gr.Image(label="Source", type="pil", sources=["upload", "clipboard"],
                                            image_mode="RGBA", height=420, elem_id="extras_image")
                with gr.Tab("Batch Process", id="batch", elem_id="extras_batch_process_tab") as batch_tab:
                    batch_files = gr.File(label="Batch Process", file_count="multiple", type="filepath",
                                          elem_id="extras_image_batch")
                with gr.Tab("Batch from Directory", id="folder", elem_id="extras_batch_directory_tab") as folder_tab:
                    input_dir = gr.Textbox(label="Input directory", elem_id="extras_batch_input_dir",
                                           placeholder="A directory on the same machine where the server is running.")
                    output_dir = gr.Textbox(label="Output directory", elem_id="extras_batch_output_dir",
                                            placeholder="Leave blank to save images to the default path.")
            with gr.Tabs(elem_id="extras_resize_mode"):
                with gr.Tab("Scale by", id="by", elem_id="extras_scale_by_tab") as by_tab:
                    upscaling_resize = gr.Slider(1.0, MAX_SCALE, value=4.0, step=0.05, label="Resize",
                                                 elem_id="extras_upscaling_resize")
                with gr.Tab("Scale to", id="to", elem_id="extras_scale_to_tab") as to_tab:
                    with gr.Row():
                        width = gr.Number(512, label="Width", minimum=64, maximum=SIZE_RANGE[1], precision=0,
                                          elem_id="extras_upscaling_resize_w")
                        height = gr.Number(512, label="Height", minimum=64, maximum=SIZE_RANGE[1],
                                           precision=0, elem_id="extras_upscaling_resize_h")
                        crop = gr.Checkbox(True, label="Crop to fit", elem_id="extras_upscaling_crop")
            names = upscaler_names(app)
            with gr.Row():
                upscaler_1 = gr.Dropdown(names, value=NONE, label="Upscaler 1", elem_id="extras_upscaler_1")
                refresh = gr.Button("🔄", elem_id="extras_refresh_upscalers", scale=0, min_width=40)
            with gr.Row():
                upscaler_2 = gr.Dropdown(names, value=NONE, label="Upscaler 2", elem_id="extras_upscaler_2")
                visibility = gr.Slider(0.0, 1.0, value=0.0, step=0.001, label="Upscaler 2 visibility",
                                       elem_id="extras_upscaler_2_visibility")
            run = gr.Button("Generate", variant="primary", elem_id="extras_generate")
        with gr.Column(scale=1):
            gallery = gr.Gallery(label="Result", columns=2, height=420, elem_id="extras_gallery", format="png")
            infotext = gr.Textbox(label="Info", interactive=False, lines=2, elem_id="extras_info")
            message = gr.HTML(elem_id="extras_message")
    for tab, name in ((single_tab, "single"), (batch_tab, "batch"), (folder_tab, "folder")):
        tab.select(lambda name=name: name, outputs=mode)
    # an image put into the Single Image box from elsewhere ("Send to extras") makes it the mode
    single_image.change(lambda image: "single" if image is not None else gr.update(), inputs=single_image,
                        outputs=mode)
    for tab, name in ((by_tab, "by"), (to_tab, "to")):
        tab.select(lambda name=name: name, outputs=resize_mode)
    ui = ExtrasTab(single_image, mode_tabs, mode, batch_files, input_dir, output_dir, resize_mode, upscaling_resize,
                   width, height, crop, upscaler_1, upscaler_2, visibility, refresh, run, gallery, infotext, message)
    _wire(app, ui)
    return ui


def make_run(app: App, mode: str, image: Any, files: list[str] | None, input_dir: str, output_dir: str,
             params: ExtrasParams) -> ExtrasRun:
    """The tab's fields as an ExtrasRun; UserError when the chosen mode has nothing to work on."""
    from modules.extras.run import ExtrasRun, NamedImage
    from modules.image_input import decode_all, open_path

    if mode == "folder":
        if not app.settings.extensions_allowed:
            raise UserError(msg("extras_folder_not_allowed"))
        if not input_dir.strip():
            raise UserError(msg("extras_no_image"))
        out = Path(output_dir.strip()) if output_dir.strip() else None
        return ExtrasRun(params, input_dir=Path(input_dir.strip()), output_dir=out)
    if mode == "batch":
        paths = [Path(f) for f in files or []]
        images = decode_all([open_path(p, p.name) for p in paths])
        return ExtrasRun(params, images=tuple(NamedImage(p.name, i) for p, i in zip(paths, images, strict=True)))
    return ExtrasRun(params, images=(NamedImage("", image),) if image is not None else ())


def _wire(app: App, ui: ExtrasTab) -> None:
    from modules.extras.run import submit_extras
    from modules.ui.generation_stream import session_owner

    def refresh() -> tuple[Any, Any]:
        from modules.upscalers.model_files import register_model_upscalers

        register_model_upscalers(app)
        names = upscaler_names(app)
        return gr.update(choices=names), gr.update(choices=names)

    ui.refresh.click(refresh, outputs=[ui.upscaler_1, ui.upscaler_2])

    def generate(mode: str, image: Any, files: list[str] | None, input_dir: str, output_dir: str, resize: str,
                 scale: float, width: float, height: float, crop: bool, first: str, second: str, blend: float,
                 request: gr.Request | None = None) -> Iterator[tuple[Any, Any, Any]]:
        params = ExtrasParams(resize_mode=1 if resize == "to" else 0, upscaling_resize=float(scale),
                              upscaling_resize_w=int(width or 0), upscaling_resize_h=int(height or 0),
                              upscaling_crop=bool(crop), upscaler_1=first or NONE, upscaler_2=second or NONE,
                              extras_upscaler_2_visibility=float(blend))
        try:
            job = submit_extras(app, make_run(app, mode, image, files, input_dir, output_dir, params),
                                owner=session_owner(request))
        except UserError as e:
            yield gr.update(), gr.update(), message_html(str(e), "error")
            return
        yield gr.update(), gr.update(), message_html(msg("starting_job"))
        while not job.wait(POLL_SECONDS):
            progress = job.progress
            if progress.active and progress.batches:
                yield gr.update(), gr.update(), message_html(msg("extras_progress", done=progress.batch + 1,
                                                                 total=progress.batches))
        try:
            result = job.result()
        except UserError as e:
            yield gr.update(), gr.update(), message_html(str(e), "error")
            return
        except Exception as e:  # noqa: BLE001 - shown to the user; the queue has already moved on
            log.error("extras failed", exc_info=e)
            yield gr.update(), gr.update(), message_html(msg("unexpected_error", error=f"{type(e).__name__}: {e}"),
                                                         "error")
            return
        shown = [str(p) for p in result.paths] if result.paths else list(result.images)
        yield shown, (result.infotexts[0] if result.infotexts else ""), message_html(
            result.message, "warning" if result.warnings else "info")

    ui.run.click(generate, inputs=[ui.mode, ui.single_image, ui.batch_files, ui.input_dir, ui.output_dir,
                                   ui.resize_mode, ui.upscaling_resize, ui.width, ui.height, ui.crop, ui.upscaler_1,
                                   ui.upscaler_2, ui.visibility],
                 outputs=[ui.gallery, ui.infotext, ui.message], concurrency_limit=None)
