"""The txt2img tab: prompt, parameters, Generate/Interrupt/Skip, progress bar, gallery and infotext.

The components come from generation_panel.py and the job handling from generation_stream.py, both
shared with the img2img tab; this file only lays them out and turns the fields into a request (whose
rules are modules/generation/resolve.py's). The fields start at the app's option defaults (Settings:
default sampler, CLIP skip, emphasis), as a request that leaves them unset gets them from the API.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import gradio as gr

from modules.errors import UserError
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
