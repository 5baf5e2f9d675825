"""The img2img tab: sub-tabs img2img / Inpaint (brush mask) / Inpaint upload, the shared controls, results.

Prompt row, parameters, progress, gallery and Interrupt/Skip are the txt2img tab's (generation_panel,
generation_stream); this file adds the image boxes, resize mode, denoising strength and the inpaint
controls (shown in the inpaint sub-tabs), and turns the fields into a request (rules: modules/generation/resolve.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import gradio as gr

from modules.errors import UserError
from modules.generation.params import MASKED_CONTENT, MAX_MASK_BLUR, MAX_PADDING, RESIZE_MODES, Img2ImgParams
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
    build_seed_row,
    build_size_rows,
)
from modules.ui.generation_stream import error_update, session_owner, stream_job, submit_request, wire_job_controls
from modules.ui.img2img_inputs import MODE_LABELS, MODES, pick_input
from modules.ui.prompt_tools import style_names, wire_prompt_tools
from modules.ui.script_controls import ScriptControls, build_script_controls

if TYPE_CHECKING:
    from modules.app import App

TAB = "img2img"
DEFAULTS = Img2ImgParams()
MASK_MODES = ("Inpaint masked", "Inpaint not masked")
INPAINT_AREAS = ("Whole picture", "Only masked")
IMAGE_HEIGHT = 480


@dataclass
class ImageInputs:
    """The sub-tabs' image boxes and which sub-tab is active."""

    mode: Any  # gr.State: one of img2img_inputs.MODES
    mode_tabs: Any  # gr.Tabs of the sub-tabs (ids = MODES)
    sub_tabs: dict[str, Any]  # mode → gr.Tab
    image: Any  # img2img: gr.Image
    editor: Any  # Inpaint: gr.ImageEditor, the painted layer is the mask
    upload_image: Any  # Inpaint upload: image ...
    upload_mask: Any  # ... and its mask
    inpaint_controls: Any  # the group of inpaint settings, visible in the inpaint sub-tabs


@dataclass
class Img2ImgTab:
    binding: ParamBinding[Img2ImgParams]
    row: PromptRow
    seeds: SeedControls
    panel: ResultPanel
    inputs: ImageInputs
    overrides: Any  # the Override settings box
    scripts: ScriptControls | None = None  # the Script dropdown and the scripts' controls


def _build_image_inputs() -> tuple[Any, dict[str, Any], Any, Any, Any, Any]:
    with gr.Tabs(elem_id="mode_img2img") as mode_tabs:
        with gr.Tab(MODE_LABELS["img2img"], id="img2img", elem_id="img2img_img2img_tab") as t_img2img:
            image = gr.Image(label="Image for img2img", type="pil", image_mode="RGBA", format="png",
                             sources=["upload", "clipboard"], height=IMAGE_HEIGHT, elem_id="img2img_image")
        with gr.Tab(MODE_LABELS["inpaint"], id="inpaint", elem_id="img2img_inpaint_tab") as t_inpaint:
            editor = gr.ImageEditor(label="Image for inpainting with mask", type="pil", image_mode="RGBA",
                                    format="png", sources=["upload", "clipboard"], height=IMAGE_HEIGHT,
                                    brush=gr.Brush(colors=["#ffffff"], default_color="#ffffff", color_mode="fixed"),
                                    layers=False, transforms=(), elem_id="img2maskimg")
        with gr.Tab(MODE_LABELS["inpaint_upload"], id="inpaint_upload", elem_id="img2img_inpaint_upload_tab") as t_up:
            upload_image = gr.Image(label="Image", type="pil", image_mode="RGBA", format="png",
                                    sources=["upload", "clipboard"], height=IMAGE_HEIGHT, elem_id="img_inpaint_base")
            upload_mask = gr.Image(label="Mask (white = repaint)", type="pil", image_mode="L", format="png",
                                   sources=["upload", "clipboard"], height=IMAGE_HEIGHT, elem_id="img_inpaint_mask")
    tabs = {"img2img": t_img2img, "inpaint": t_inpaint, "inpaint_upload": t_up}
    return mode_tabs, tabs, image, editor, upload_image, upload_mask


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
            mode_tabs, sub_tabs, image, editor, upload_image, upload_mask = _build_image_inputs()
            binding.bind("resize_mode", gr.Radio(list(RESIZE_MODES), value=RESIZE_MODES[0], label="Resize mode",
                                                 elem_id="resize_mode"), Choices(RESIZE_MODES))
            build_sampler_rows(TAB, binding, defaults, samplers)
            build_size_rows(TAB, binding, defaults)
            build_cfg(TAB, binding, defaults)
            binding.bind("denoising_strength", gr.Slider(0, 1, value=DEFAULTS.denoising_strength, step=0.01,
                                                         label="Denoising strength",
                                                         elem_id=f"{TAB}_denoising_strength"))
            seeds = build_seed_row(TAB, binding, defaults)
            build_clip_rows(TAB, binding, defaults)
            overrides = build_override_settings(TAB)
            scripts = build_script_controls(app, TAB) if app is not None else None
            controls = _build_inpaint_controls(binding)
        with gr.Column(scale=1, min_width=320, elem_id=f"{TAB}_results"):
            panel = build_result_panel(TAB)
    inputs = ImageInputs(mode=gr.State(MODES[0]), mode_tabs=mode_tabs, sub_tabs=sub_tabs, image=image, editor=editor,
                         upload_image=upload_image, upload_mask=upload_mask, inpaint_controls=controls)
    return Img2ImgTab(binding=binding, row=row, seeds=seeds, panel=panel, inputs=inputs, overrides=overrides,
                      scripts=scripts)


def img2img_params(binding: ParamBinding[Img2ImgParams], fields: dict[str, Any], mode: str, image: Any, editor: Any,
                   upload_image: Any, upload_mask: Any) -> Img2ImgParams:
    """Img2ImgParams from the tab's values (not validated); UserError for a missing image or mask."""
    params = binding.params(fields)
    chosen = pick_input(mode, image, editor, upload_image, upload_mask)
    return replace(params, init_images=(chosen.image,), mask=chosen.mask, mask_blur_y=params.mask_blur_x)


def set_mode(mode: str) -> tuple[str, Any]:
    """The mode state and the inpaint controls' visibility for a sub-tab."""
    return mode, gr.update(visible=mode != "img2img")


def _mode_setter(mode: str) -> Any:
    def select() -> tuple[str, Any]:
        return set_mode(mode)

    return select


def build_img2img_tab(app: App) -> Img2ImgTab:
    """Create the tab's components (inside the caller's Tab context) and wire their handlers."""
    from modules.ui.extra_networks import build_extra_networks_panel

    tab = _build_components(style_names(app), sampler_table(app.registry), tab_defaults(app), app)
    binding, panel, tools, inputs = tab.binding, tab.panel, tab.row.tools, tab.inputs
    build_extra_networks_panel(app, binding.components["prompt"], TAB)
    images = {"mode": inputs.mode, "init_image": inputs.image, "editor": inputs.editor,
              "upload_image": inputs.upload_image, "upload_mask": inputs.upload_mask}

    def generate(request: gr.Request | None = None, **fields: Any):  # noqa: ANN202 - yields {component: value}
        selected_styles = fields.pop("styles", None)
        chosen = {name: fields.pop(name, None) for name in images}
        override_labels = fields.pop("override_settings", None)
        script = tab.scripts.take(fields) if tab.scripts is not None else (None, [], {})
        try:
            params = img2img_params(binding, fields, chosen["mode"] or MODES[0], chosen["init_image"],
                                    chosen["editor"], chosen["upload_image"], chosen["upload_mask"])
            job = submit_request(app, TAB, params, selected_styles, override_labels, session_owner(request),
                                 script_run(app, TAB, *script))
        except UserError as e:
            yield error_update(panel, str(e))
            return
        yield from stream_job(app, job, panel, TAB)

    inputs_kwargs = {**binding.inputs(), "styles": tools.styles, "override_settings": tab.overrides, **images,
                     **(tab.scripts.inputs() if tab.scripts is not None else {})}
    tab.row.generate.click(generate, inputs_kwargs=inputs_kwargs,
                           outputs=panel.outputs(), show_progress="hidden", concurrency_limit=None,
                           api_name=TAB, api_visibility="private")
    for mode, sub_tab in inputs.sub_tabs.items():
        sub_tab.select(_mode_setter(mode), outputs=[inputs.mode, inputs.inpaint_controls],
                       api_name=f"{TAB}_mode_{mode}", api_visibility="private", show_progress="hidden", queue=False)
    wire_job_controls(app, TAB, tab.row, panel, tab.seeds)
    components = binding.components
    wire_prompt_tools(app, TAB, tools, components["prompt"], components["negative_prompt"], components["steps"])
    return tab
