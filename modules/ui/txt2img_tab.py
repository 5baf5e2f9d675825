"""The txt2img tab: prompt, parameters, Generate/Interrupt/Skip, progress bar, gallery and infotext.

The components come from generation_panel.py and the job handling from generation_stream.py, both
shared with the img2img tab; this file only lays them out and turns the fields into Txt2ImgParams.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import gradio as gr

from modules.errors import UserError
from modules.generation.override_settings import options_from_labels
from modules.generation.params import Txt2ImgParams
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
from modules.ui.generation_stream import error_update, session_owner, stream_job, wire_job_controls
from modules.ui.prompt_tools import style_names, styled_prompts, wire_prompt_tools

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


def _build_components(styles: list[str]) -> Txt2ImgTab:
    binding: ParamBinding[Txt2ImgParams] = ParamBinding(Txt2ImgParams)
    row = build_prompt_row(TAB, binding, styles)
    with gr.Row(elem_id=f"{TAB}_main"):
        with gr.Column(scale=1, min_width=320, elem_id=f"{TAB}_settings"):
            build_sampler_rows(TAB, binding, DEFAULTS)
            build_size_rows(TAB, binding, DEFAULTS)
            build_cfg(TAB, binding, DEFAULTS)
            seeds = build_seed_row(TAB, binding, DEFAULTS)
            build_clip_rows(TAB, binding, DEFAULTS)
            overrides = build_override_settings(TAB)
        with gr.Column(scale=1, min_width=320, elem_id=f"{TAB}_results"):
            panel = build_result_panel(TAB, send_buttons=True)
    return Txt2ImgTab(binding=binding, row=row, seeds=seeds, panel=panel, overrides=overrides)


def build_txt2img_tab(app: App) -> Txt2ImgTab:
    """Create the tab's components (inside the caller's Tab context) and wire their handlers."""
    from modules.generation import txt2img as txt2img_module
    from modules.ui.extra_networks import build_extra_networks_panel

    tab = _build_components(style_names(app))
    binding, panel, tools = tab.binding, tab.panel, tab.row.tools
    build_extra_networks_panel(app, binding.components["prompt"], TAB)

    def generate(request: gr.Request | None = None, **fields: Any):  # noqa: ANN202 - yields {component: value}
        selected_styles = fields.pop("styles", None)  # merged into the prompts now, as A1111 does
        override_labels = fields.pop("override_settings", None)
        try:
            options = options_from_labels(override_labels)
            params = binding.params(fields)
            if selected_styles:
                prompt, negative = styled_prompts(app, params.prompt, params.negative_prompt, selected_styles)
                params = replace(params, prompt=prompt, negative_prompt=negative)
            params.validate()
        except UserError as e:
            yield error_update(panel, str(e))
            return
        job = txt2img_module.submit_txt2img(app, params, owner=session_owner(request), options=options)
        yield from stream_job(app, job, panel, TAB)

    inputs = {**binding.inputs(), "styles": tools.styles, "override_settings": tab.overrides}
    tab.row.generate.click(generate, inputs_kwargs=inputs,
                           outputs=panel.outputs(), show_progress="hidden", concurrency_limit=None,
                           api_name=TAB, api_visibility="private")
    wire_job_controls(app, TAB, tab.row, panel, tab.seeds)
    components = binding.components
    wire_prompt_tools(app, TAB, tools, components["prompt"], components["negative_prompt"], components["steps"])
    return tab
