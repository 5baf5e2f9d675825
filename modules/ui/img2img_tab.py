"""The img2img tab: sub-tabs img2img / Sketch / Inpaint (brush mask) / Inpaint sketch / Inpaint upload / Batch,
the shared controls, results.

Prompt row, parameters, progress, gallery and Interrupt/Skip are the txt2img tab's (generation_panel,
generation_stream); this file adds the image boxes, resize mode, "Resize to / Resize by" with 📐 (size
from the image), denoising strength and the inpaint controls (shown in the inpaint sub-tabs and Batch),
and turns the fields into a request (rules: modules/generation/resolve.py). Batch runs every image of a
folder with the tab's settings (modules/generation/img2img_batch.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import gradio as gr

from modules.errors import UserError
from modules.generation.params import MASKED_CONTENT, MAX_MASK_BLUR, MAX_PADDING, RESIZE_MODES, Img2ImgParams
from modules.messages import msg
from modules.samplers.registry import SamplerTable, sampler_table
from modules.scripts.select import script_run
from modules.ui.binding import Choices, ParamBinding
from modules.ui.generation_panel import (
    PromptRow,
    ResultPanel,
    SeedControls,
    build_cfg,
    build_clip_rows,
    build_override_settings,
    build_prompt_row,
    build_result_panel,
    build_sampler_rows,
    build_seed_extras,
    build_seed_row,
    build_size_rows,
)
from modules.ui.generation_stream import error_update, session_owner, stream_job, submit_request, wire_job_controls
from modules.ui.img2img_inputs import MASKED_MODES, MODE_LABELS, MODES, image_of, pick_input, resized_by
from modules.ui.progress import message_html
from modules.ui.prompt_tools import style_names, wire_prompt_tools
from modules.ui.script_controls import ScriptControls, build_script_controls

if TYPE_CHECKING:
    from modules.app import App

TAB = "img2img"
DEFAULTS = Img2ImgParams()
MASK_MODES = ("Inpaint masked", "Inpaint not masked")
INPAINT_AREAS = ("Whole picture", "Only masked")
IMAGE_HEIGHT = 480
SKETCH_COLOURS = ["#000000", "#ffffff", "#ff0000", "#ff8000", "#ffff00", "#00c000", "#0080ff", "#8000ff", "#804000"]
RESIZE_TABS = ("to", "by")  # "Resize to" width x height, "Resize by" a scale of the image's size
BATCH_FIELDS = ("batch_input_dir", "batch_output_dir", "batch_mask_dir")


@dataclass
class ImageInputs:
    """The sub-tabs' image boxes and which sub-tab is active."""

    mode: Any  # gr.State: one of img2img_inputs.MODES
    mode_tabs: Any  # gr.Tabs of the sub-tabs (ids = MODES)
    sub_tabs: dict[str, Any]  # mode → gr.Tab
    image: Any  # img2img: gr.Image
    sketch: Any  # Sketch: gr.ImageEditor with a colour brush, the composite is the init image
    editor: Any  # Inpaint: gr.ImageEditor, the painted layer is the mask
    inpaint_sketch: Any  # Inpaint sketch: colour brush, composite = init image, strokes = mask
    upload_image: Any  # Inpaint upload: image ...
    upload_mask: Any  # ... and its mask
    batch: dict[str, Any]  # Batch: BATCH_FIELDS → gr.Textbox (input, output and mask folders)
    inpaint_controls: Any  # the group of inpaint settings, visible in the inpaint sub-tabs and Batch

    def pictures(self) -> dict[str, Any]:
        """Inputs of the handlers that read the active sub-tab's picture, by keyword."""
        return {"mode": self.mode, "init_image": self.image, "sketch": self.sketch, "editor": self.editor,
                "inpaint_sketch": self.inpaint_sketch, "upload_image": self.upload_image,
                "upload_mask": self.upload_mask}


@dataclass
class ResizeControls:
    """ "Resize to" (the width/height sliders, 📐) / "Resize by" (a scale of the image's size) tabs."""

    tab: Any  # gr.State: one of RESIZE_TABS
    tabs: dict[str, Any]  # RESIZE_TABS → gr.Tab
    scale: Any  # "Resize by" scale slider
    preview: Any  # the size "Resize by" will draw at
    detect: Any  # 📐: width and height from the image


@dataclass
class Img2ImgTab:
    binding: ParamBinding[Img2ImgParams]
    row: PromptRow
    seeds: SeedControls
    panel: ResultPanel
    inputs: ImageInputs
    resize: ResizeControls
    overrides: Any  # the Override settings box
    scripts: ScriptControls | None = None  # the Script dropdown and the scripts' controls


def _editor(label: str, elem_id: str, brush: Any) -> Any:
    return gr.ImageEditor(label=label, type="pil", image_mode="RGBA", format="png", sources=["upload", "clipboard"],
                          height=IMAGE_HEIGHT, brush=brush, layers=False, transforms=(), elem_id=elem_id)


def _colour_brush() -> Any:
    return gr.Brush(colors=SKETCH_COLOURS, default_color=SKETCH_COLOURS[0], color_mode="defaults")


def _build_image_inputs() -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """(the sub-tabs' gr.Tabs, mode → gr.Tab, the boxes by ImageInputs field)."""
    boxes: dict[str, Any] = {}
    tabs: dict[str, Any] = {}
    with gr.Tabs(elem_id="mode_img2img") as mode_tabs:
        with gr.Tab(MODE_LABELS["img2img"], id="img2img", elem_id="img2img_img2img_tab") as tabs["img2img"]:
            boxes["image"] = gr.Image(label="Image for img2img", type="pil", image_mode="RGBA", format="png",
                                      sources=["upload", "clipboard"], height=IMAGE_HEIGHT, elem_id="img2img_image")
        with gr.Tab(MODE_LABELS["sketch"], id="sketch", elem_id="img2img_img2img_sketch_tab") as tabs["sketch"]:
            boxes["sketch"] = _editor("Image for img2img (draw on it)", "img2img_sketch", _colour_brush())
        with gr.Tab(MODE_LABELS["inpaint"], id="inpaint", elem_id="img2img_inpaint_tab") as tabs["inpaint"]:
            boxes["editor"] = _editor("Image for inpainting with mask", "img2maskimg",
                                      gr.Brush(colors=["#ffffff"], default_color="#ffffff", color_mode="fixed"))
        with gr.Tab(MODE_LABELS["inpaint_sketch"], id="inpaint_sketch",
                    elem_id="img2img_inpaint_sketch_tab") as tabs["inpaint_sketch"]:
            boxes["inpaint_sketch"] = _editor("Image for inpainting (the strokes are repainted)", "inpaint_sketch",
                                              _colour_brush())
        with gr.Tab(MODE_LABELS["inpaint_upload"], id="inpaint_upload",
                    elem_id="img2img_inpaint_upload_tab") as tabs["inpaint_upload"]:
            boxes["upload_image"] = gr.Image(label="Image", type="pil", image_mode="RGBA", format="png",
                                             sources=["upload", "clipboard"], height=IMAGE_HEIGHT,
                                             elem_id="img_inpaint_base")
            boxes["upload_mask"] = gr.Image(label="Mask (white = repaint)", type="pil", image_mode="L", format="png",
                                            sources=["upload", "clipboard"], height=IMAGE_HEIGHT,
                                            elem_id="img_inpaint_mask")
        with gr.Tab(MODE_LABELS["batch"], id="batch", elem_id="img2img_batch_tab") as tabs["batch"]:
            gr.Markdown(msg("img2img_batch_note"), elem_id="img2img_batch_note")
            boxes["batch"] = {
                "batch_input_dir": gr.Textbox(label="Input directory", elem_id="img2img_batch_input_dir"),
                "batch_output_dir": gr.Textbox(label="Output directory", elem_id="img2img_batch_output_dir"),
                "batch_mask_dir": gr.Textbox(label="Inpaint batch mask directory (optional)",
                                             elem_id="img2img_batch_inpaint_mask_dir"),
            }
    return mode_tabs, tabs, boxes


def _build_resize_controls() -> ResizeControls:
    """The "Resize to" / "Resize by" tabs under the size sliders (which "Resize to" uses)."""
    tabs: dict[str, Any] = {}
    with gr.Tabs(elem_id="img2img_tabs_resize"):
        with gr.Tab("Resize to", id="to", elem_id="img2img_tab_resize_to") as tabs["to"]:
            detect = gr.Button("📐 Size from the image", elem_id="img2img_detect_image_size_btn", size="sm")
        with gr.Tab("Resize by", id="by", elem_id="img2img_tab_resize_by") as tabs["by"]:
            with gr.Row(equal_height=True):
                scale = gr.Slider(0.05, 4.0, value=1.0, step=0.05, label="Scale", elem_id="img2img_scale", scale=3)
                preview = gr.HTML("", elem_id="img2img_scale_resolution_preview", padding=False)
    return ResizeControls(tab=gr.State(RESIZE_TABS[0]), tabs=tabs, scale=scale, preview=preview, detect=detect)


def _build_inpaint_controls(binding: ParamBinding[Img2ImgParams]) -> Any:
    bind = binding.bind
    with gr.Group(visible=False, elem_id="img2img_inpaint_controls") as group:
        bind("mask_blur_x", gr.Slider(0, MAX_MASK_BLUR, value=DEFAULTS.mask_blur_x, step=1, label="Mask blur",
                                      elem_id="img2img_mask_blur"))
        bind("inpainting_mask_invert", gr.Radio(list(MASK_MODES), value=MASK_MODES[0], label="Mask mode",
                                                elem_id="img2img_mask_mode"), Choices(MASK_MODES))
        bind("inpainting_fill", gr.Radio(list(MASKED_CONTENT), value=MASKED_CONTENT[DEFAULTS.inpainting_fill],
                                         label="Masked content", elem_id="img2img_inpainting_fill"),
             Choices(MASKED_CONTENT))
        with gr.Row():
            bind("inpaint_full_res", gr.Radio(list(INPAINT_AREAS), value=INPAINT_AREAS[0], label="Inpaint area",
                                              elem_id="img2img_inpaint_full_res"), Choices(INPAINT_AREAS))
            bind("inpaint_full_res_padding", gr.Slider(0, MAX_PADDING, value=DEFAULTS.inpaint_full_res_padding,
                                                       step=4, label="Only masked padding, pixels",
                                                       elem_id="img2img_inpaint_full_res_padding"))
    return group


def tab_defaults(app: App) -> Img2ImgParams:
    """The fields' first values: the params defaults with the app's option defaults over them."""
    return replace(Img2ImgParams(), **app.options.param_defaults())


def _build_components(styles: list[str], samplers: SamplerTable, defaults: Img2ImgParams = DEFAULTS,
                      app: App | None = None) -> Img2ImgTab:
    binding: ParamBinding[Img2ImgParams] = ParamBinding(Img2ImgParams)
    row = build_prompt_row(TAB, binding, styles)
    with gr.Row(elem_id=f"{TAB}_main"):
        with gr.Column(scale=1, min_width=320, elem_id=f"{TAB}_settings"):
            mode_tabs, sub_tabs, boxes = _build_image_inputs()
            binding.bind("resize_mode", gr.Radio(list(RESIZE_MODES), value=RESIZE_MODES[0], label="Resize mode",
                                                 elem_id="resize_mode"), Choices(RESIZE_MODES))
            build_sampler_rows(TAB, binding, defaults, samplers)
            build_size_rows(TAB, binding, defaults)
            resize = _build_resize_controls()
            build_cfg(TAB, binding, defaults)
            binding.bind("denoising_strength", gr.Slider(0, 1, value=DEFAULTS.denoising_strength, step=0.01,
                                                         label="Denoising strength",
                                                         elem_id=f"{TAB}_denoising_strength"))
            seeds = build_seed_row(TAB, binding, defaults)
            build_seed_extras(TAB, binding, defaults)
            build_clip_rows(TAB, binding, defaults)
            overrides = build_override_settings(TAB)
            scripts = build_script_controls(app, TAB) if app is not None else None
            controls = _build_inpaint_controls(binding)
        with gr.Column(scale=1, min_width=320, elem_id=f"{TAB}_results"):
            panel = build_result_panel(TAB)
    inputs = ImageInputs(mode=gr.State(MODES[0]), mode_tabs=mode_tabs, sub_tabs=sub_tabs, inpaint_controls=controls,
                         **boxes)
    return Img2ImgTab(binding=binding, row=row, seeds=seeds, panel=panel, inputs=inputs, resize=resize,
                      overrides=overrides, scripts=scripts)


def img2img_params(binding: ParamBinding[Img2ImgParams], fields: dict[str, Any], mode: str, image: Any, editor: Any,
                   upload_image: Any, upload_mask: Any, sketch: Any = None, inpaint_sketch: Any = None,
                   scale_by: float | None = None) -> Img2ImgParams:
    """Img2ImgParams from the tab's values (not validated); UserError for a missing image or mask.
    scale_by ("Resize by"): the size is the active picture's size times it instead of width x height."""
    params = binding.params(fields)
    chosen = pick_input(mode, image, editor, upload_image, upload_mask, sketch, inpaint_sketch)
    params = replace(params, init_images=(chosen.image,), mask=chosen.mask, mask_blur_y=params.mask_blur_x)
    scaled = resized_by(chosen.image, scale_by) if scale_by is not None else None
    if scaled is not None:
        params = replace(params, width=scaled[0], height=scaled[1])
    return params


def chosen_scale(resize_tab: str | None, scale: Any) -> float | None:
    """The "Resize by" scale when that tab is chosen, else None (width x height apply)."""
    if resize_tab != "by":
        return None
    try:
        value = float(scale)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise UserError(msg("bad_number", field="Scale", value="" if scale is None else scale))
    return value


def set_mode(mode: str) -> tuple[str, Any]:
    """The mode state and the inpaint controls' visibility for a sub-tab."""
    return mode, gr.update(visible=mode in MASKED_MODES)


def _mode_setter(mode: str) -> Any:
    def select() -> tuple[str, Any]:
        return set_mode(mode)

    return select


def _editors(values: dict[str, Any]) -> dict[str, Any]:
    return {"sketch": values.get("sketch"), "inpaint": values.get("editor"),
            "inpaint_sketch": values.get("inpaint_sketch")}


def _active_picture(values: dict[str, Any]) -> Any:
    mode = values.get("mode") or MODES[0]
    return image_of(mode, values.get("init_image"), _editors(values), values.get("upload_image"))


def _submit_batch(app: App, params: Img2ImgParams, folders: dict[str, Any], selected_styles: list[str] | None,
                  override_labels: list[str] | None, owner: str, script: Any, scale_by: float | None) -> Any:
    """The Batch sub-tab's job: the folders checked and the settings checked (on a stand-in image) first."""
    from dataclasses import fields as dataclass_fields

    from PIL import Image

    from modules.generation.img2img_batch import BatchFolders, submit_batch
    from modules.generation.request import GenerationRequest
    from modules.generation.resolve import check
    from modules.ui.paste import split_checkpoint, split_overrides

    if not app.settings.extensions_allowed:  # shared with --listen: folders on the server stay out of reach
        raise UserError(msg("batch_folder_not_allowed"))
    checked = BatchFolders.checked(folders["batch_input_dir"], folders["batch_output_dir"], folders["batch_mask_dir"])
    labels, checkpoint = split_checkpoint(override_labels)
    options, vae = split_overrides(labels)
    request = GenerationRequest(kind=TAB, params=replace(params, mask_blur_y=params.mask_blur_x),
                                explicit=frozenset(f.name for f in dataclass_fields(params)),
                                styles=tuple(selected_styles or ()), options=options, vae=vae, owner=owner,
                                scripts=script, checkpoint=checkpoint)
    stand_in = Image.new("RGB", (params.width, params.height))
    check(app, replace(request, params=replace(request.params, init_images=(stand_in,))))
    return submit_batch(app, request, checked, scale_by)


def build_img2img_tab(app: App) -> Img2ImgTab:
    """Create the tab's components (inside the caller's Tab context) and wire their handlers."""
    from modules.ui.extra_networks import build_extra_networks_panel

    tab = _build_components(style_names(app), sampler_table(app.registry), tab_defaults(app), app)
    binding, panel, tools, inputs = tab.binding, tab.panel, tab.row.tools, tab.inputs
    build_extra_networks_panel(app, binding.components["prompt"], TAB)
    images = inputs.pictures()
    sizing = {"resize_tab": tab.resize.tab, "scale_by": tab.resize.scale}

    def generate(request: gr.Request | None = None, **fields: Any):  # noqa: ANN202 - yields {component: value}
        selected_styles = fields.pop("styles", None)
        chosen = {name: fields.pop(name, None) for name in images}
        resize = {name: fields.pop(name, None) for name in sizing}
        folders = {name: fields.pop(name, None) for name in BATCH_FIELDS}
        override_labels = fields.pop("override_settings", None)
        script = tab.scripts.take(fields) if tab.scripts is not None else (None, [], {})
        try:
            mode = chosen["mode"] or MODES[0]
            scale_by = chosen_scale(resize["resize_tab"], resize["scale_by"])
            if mode == "batch":
                job = _submit_batch(app, binding.params(fields), folders, selected_styles, override_labels,
                                    session_owner(request), script_run(app, TAB, *script), scale_by)
            else:
                params = img2img_params(binding, fields, mode, chosen["init_image"], chosen["editor"],
                                        chosen["upload_image"], chosen["upload_mask"], chosen["sketch"],
                                        chosen["inpaint_sketch"], scale_by)
                job = submit_request(app, TAB, params, selected_styles, override_labels, session_owner(request),
                                     script_run(app, TAB, *script))
        except UserError as e:
            yield error_update(panel, str(e))
            return
        yield from stream_job(app, job, panel, TAB)

    inputs_kwargs = {**binding.inputs(), "styles": tools.styles, "override_settings": tab.overrides, **images,
                     **sizing, **inputs.batch, **(tab.scripts.inputs() if tab.scripts is not None else {})}
    tab.row.generate.click(generate, inputs_kwargs=inputs_kwargs,
                           outputs=panel.outputs(), show_progress="hidden", concurrency_limit=None,
                           api_name=TAB, api_visibility="private")
    for mode, sub_tab in inputs.sub_tabs.items():
        sub_tab.select(_mode_setter(mode), outputs=[inputs.mode, inputs.inpaint_controls],
                       api_name=f"{TAB}_mode_{mode}", api_visibility="private", show_progress="hidden", queue=False)
    _wire_resize(tab)
    wire_job_controls(app, TAB, tab.row, panel, tab.seeds)
    components = binding.components
    wire_prompt_tools(app, TAB, tools, components["prompt"], components["negative_prompt"], components["steps"])
    return tab


def _wire_resize(tab: Img2ImgTab) -> None:
    """📐 sets width and height from the active sub-tab's picture; the Resize by tabs keep the scale's size shown."""
    resize, inputs, panel = tab.resize, tab.inputs, tab.panel
    width, height = tab.binding.components["width"], tab.binding.components["height"]
    quick = {"api_visibility": "private", "show_progress": "hidden", "queue": False}

    def detect(**values: Any) -> dict[Any, Any]:
        size = resized_by(_active_picture(values), 1.0)
        if size is None:
            return {width: gr.skip(), height: gr.skip(), panel.message: message_html(msg("size_from_image_none"),
                                                                                     "warning")}
        return {width: size[0], height: size[1],
                panel.message: message_html(msg("size_from_image_done", width=size[0], height=size[1]))}

    def show_scaled(scale: Any, **values: Any) -> str:
        if values.get("mode") == "batch":
            return message_html(msg("resize_by_batch"))
        size = resized_by(_active_picture(values), float(scale or 1.0))
        if size is None:
            return message_html(msg("resize_by_no_image"), "warning")
        return message_html(msg("resize_by_size", scale=scale, width=size[0], height=size[1]))

    pictures = inputs.pictures()
    resize.detect.click(detect, inputs_kwargs=pictures, outputs=[width, height, panel.message],
                        api_name=f"{TAB}_size_from_image", **quick)
    for name, sub_tab in resize.tabs.items():
        sub_tab.select(_constant(name), outputs=resize.tab, api_name=f"{TAB}_resize_{name}", **quick)
    for name, event in (("scale", resize.scale.change), ("by_tab", resize.tabs["by"].select)):
        event(show_scaled, inputs_kwargs={"scale": resize.scale, **pictures}, outputs=resize.preview,
              api_name=f"{TAB}_resize_preview_{name}", **quick)


def _constant(value: str) -> Any:
    def pick() -> str:
        return value

    return pick
