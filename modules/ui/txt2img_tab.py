"""The txt2img tab: prompt, parameters, Generate/Interrupt/Skip, progress bar, gallery and infotext.

The components come from generation_panel.py and the job handling from generation_stream.py, both
shared with the img2img tab; this file lays them out, adds the "Hires. fix" accordion (with its
"Upscaled resolution" read-out) and turns the fields into a request (whose
rules are modules/generation/resolve.py's). The fields start at the app's option defaults (Settings:
default sampler, CLIP skip, emphasis), as a request that leaves them unset gets them from the API.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import gradio as gr

from modules.errors import UserError
from modules.generation.hires import LATENT_MODES, upscaler_choices
from modules.generation.params import Txt2ImgParams
from modules.samplers.registry import SamplerTable, sampler_table
from modules.scripts.select import script_run
from modules.ui.binding import ParamBinding
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
from modules.ui.prompt_tools import style_names, wire_prompt_tools
from modules.ui.script_controls import ScriptControls, build_script_controls

if TYPE_CHECKING:
    from modules.app import App

TAB = "txt2img"
DEFAULTS = Txt2ImgParams()


@dataclass
class Txt2ImgTab:
    binding: ParamBinding[Txt2ImgParams]
    row: PromptRow
    seeds: SeedControls
    panel: ResultPanel
    overrides: Any  # the Override settings box
    scripts: ScriptControls | None = None  # the Script dropdown and the scripts' controls


def tab_defaults(app: App) -> Txt2ImgParams:
    """The fields' first values: the params defaults with the app's option defaults over them."""
    return replace(Txt2ImgParams(), **app.options.param_defaults())


def upscaled_resolution(values: dict[str, Any]) -> str:
    """The "Upscaled resolution" read-out for the hires fields' current values ("" while it is off)."""
    from modules.generation.hires import hires_size

    try:
        params = replace(DEFAULTS, **{name: type(getattr(DEFAULTS, name))(value) for name, value in values.items()})
    except (TypeError, ValueError):
        return ""
    if not params.enable_hr or params.width <= 0 or params.height <= 0:
        return ""
    width, height = hires_size(params)
    return (f"<span class='sd-hint'>Upscaled resolution: {params.width}x{params.height} → "
            f"<b>{width}x{height}</b></span>")


def build_hires_fix(binding: ParamBinding[Txt2ImgParams], defaults: Txt2ImgParams, samplers: SamplerTable,
                    upscalers: list[str]) -> Any:
    """The "Hires. fix" accordion (A1111's controls and elem_ids); returns the Upscaled resolution read-out."""
    from modules.generation.params import SAME_SAMPLER, SAME_SCHEDULER

    bind = binding.bind
    with gr.Accordion("Hires. fix", open=defaults.enable_hr, elem_id=f"{TAB}_hr"):
        bind("enable_hr", gr.Checkbox(value=defaults.enable_hr, label="Enable hires. fix", elem_id=f"{TAB}_enable_hr"))
        with gr.Row():
            bind("hr_upscaler", gr.Dropdown(upscalers, value=defaults.hr_upscaler, label="Upscaler",
                                            elem_id=f"{TAB}_hr_upscaler"))
            bind("hr_second_pass_steps", gr.Slider(0, 150, value=defaults.hr_second_pass_steps, step=1,
                                                   label="Hires steps", info="0: same as Sampling steps",
                                                   elem_id=f"{TAB}_hires_steps"))
            bind("denoising_strength", gr.Slider(0, 1, value=defaults.denoising_strength, step=0.01,
                                                 label="Denoising strength", elem_id=f"{TAB}_denoising_strength"))
        with gr.Row():
            bind("hr_scale", gr.Slider(1, 4, value=defaults.hr_scale, step=0.05, label="Upscale by",
                                       elem_id=f"{TAB}_hr_scale"))
            bind("hr_resize_x", gr.Slider(0, 4096, value=defaults.hr_resize_x, step=8, label="Resize width to",
                                          elem_id=f"{TAB}_hr_resize_x"))
            bind("hr_resize_y", gr.Slider(0, 4096, value=defaults.hr_resize_y, step=8, label="Resize height to",
                                          elem_id=f"{TAB}_hr_resize_y"))
        readout = gr.HTML("", elem_id=f"{TAB}_hr_final_resolution", padding=False)
        with gr.Row():
            bind("hr_sampler_name", gr.Dropdown([SAME_SAMPLER, *samplers.sampler_names()],
                                                value=defaults.hr_sampler_name, label="Hires sampling method",
                                                elem_id=f"{TAB}_hr_sampler"))
            bind("hr_scheduler", gr.Dropdown([SAME_SCHEDULER, *samplers.schedule_labels()],
                                             value=defaults.hr_scheduler, label="Hires schedule type",
                                             elem_id=f"{TAB}_hr_scheduler"))
            # 0 (the slider's minimum, where a pasted "same as CFG Scale" lands too) = the first pass's CFG
            bind("hr_cfg_scale", gr.Slider(0, 30, value=defaults.hr_cfg_scale or 0, step=0.5, label="Hires CFG Scale",
                                           info="0: same as CFG Scale", elem_id=f"{TAB}_hr_cfg"))
        bind("hr_prompt", gr.Textbox(label="Hires prompt", lines=2, placeholder="empty: the same prompt",
                                     elem_id=f"{TAB}_hr_prompt"))
        bind("hr_negative_prompt", gr.Textbox(label="Hires negative prompt", lines=2,
                                              placeholder="empty: the same negative prompt",
                                              elem_id=f"{TAB}_hr_negative_prompt"))
    return readout


def _wire_readout(binding: ParamBinding[Txt2ImgParams], readout: Any) -> None:
    names = ("enable_hr", "width", "height", "hr_scale", "hr_resize_x", "hr_resize_y")
    inputs = {name: binding.components[name] for name in names}
    for component in inputs.values():
        component.change(lambda **values: upscaled_resolution(values), inputs_kwargs=inputs, outputs=readout,
                         show_progress="hidden", queue=False, api_visibility="private")


def _build_components(styles: list[str], samplers: SamplerTable, defaults: Txt2ImgParams = DEFAULTS,
                      app: App | None = None) -> Txt2ImgTab:
    binding: ParamBinding[Txt2ImgParams] = ParamBinding(Txt2ImgParams)
    row = build_prompt_row(TAB, binding, styles)
    with gr.Row(elem_id=f"{TAB}_main"):
        with gr.Column(scale=1, min_width=320, elem_id=f"{TAB}_settings"):
            build_sampler_rows(TAB, binding, defaults, samplers)
            build_size_rows(TAB, binding, defaults)
            build_cfg(TAB, binding, defaults)
            seeds = build_seed_row(TAB, binding, defaults)
            build_seed_extras(TAB, binding, defaults)
            readout = build_hires_fix(binding, defaults, samplers, upscaler_choices(app.registry) if app is not None
                                      else list(LATENT_MODES))
            _wire_readout(binding, readout)
            build_clip_rows(TAB, binding, defaults)
            overrides = build_override_settings(TAB)
            scripts = build_script_controls(app, TAB) if app is not None else None
        with gr.Column(scale=1, min_width=320, elem_id=f"{TAB}_results"):
            panel = build_result_panel(TAB, send_buttons=True)
    return Txt2ImgTab(binding=binding, row=row, seeds=seeds, panel=panel, overrides=overrides,
                      scripts=scripts)


def build_txt2img_tab(app: App) -> Txt2ImgTab:
    """Create the tab's components (inside the caller's Tab context) and wire their handlers."""
    from modules.ui.extra_networks import build_extra_networks_panel

    tab = _build_components(style_names(app), sampler_table(app.registry), tab_defaults(app), app)
    binding, panel, tools = tab.binding, tab.panel, tab.row.tools
    build_extra_networks_panel(app, binding.components["prompt"], TAB)

    def generate(request: gr.Request | None = None, **fields: Any):  # noqa: ANN202 - yields {component: value}
        selected_styles = fields.pop("styles", None)
        override_labels = fields.pop("override_settings", None)
        chosen = tab.scripts.take(fields) if tab.scripts is not None else (None, [], {})
        fields["hr_cfg_scale"] = fields.get("hr_cfg_scale") or None  # 0: the first pass's CFG scale
        try:
            job = submit_request(app, TAB, binding.params(fields), selected_styles, override_labels,
                                 session_owner(request), script_run(app, TAB, *chosen))
        except UserError as e:
            yield error_update(panel, str(e))
            return
        yield from stream_job(app, job, panel, TAB)

    inputs = {**binding.inputs(), "styles": tools.styles, "override_settings": tab.overrides,
              **(tab.scripts.inputs() if tab.scripts is not None else {})}
    tab.row.generate.click(generate, inputs_kwargs=inputs,
                           outputs=panel.outputs(), show_progress="hidden", concurrency_limit=None,
                           api_name=TAB, api_visibility="private")
    wire_job_controls(app, TAB, tab.row, panel, tab.seeds)
    components = binding.components
    wire_prompt_tools(app, TAB, tools, components["prompt"], components["negative_prompt"], components["steps"])
    return tab
