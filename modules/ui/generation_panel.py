"""Components every generation tab shares, built per tab with A1111-style elem_ids ("<tab>_steps", ...).

- build_prompt_row: prompt and negative prompt with token counters, Generate, ↙️ paste, Interrupt,
  Skip and the styles row;
- build_sampler_rows, build_size_rows, build_cfg, build_seed_row, build_seed_extras (variation seed),
  build_clip_rows (with Tiling): the shared parameters, each bound to its GenerationParams field through the tab's ParamBinding, so a tab can
  put its own controls between them (img2img's resize mode, denoising strength);
- build_result_panel: progress bar, gallery, infotext and message (plus the send-to buttons where asked).

Building only: the events are wired in generation_stream.py and by the tabs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr

from modules.generation.params import MAX_SEED
from modules.generation.prompt_chunks import EMPHASIS_MODES
from modules.samplers.core import CORE_TABLE
from modules.ui.prompt_tools import PromptTools, build_styles_row, build_token_counter

if TYPE_CHECKING:
    from modules.generation.params import GenerationParams
    from modules.samplers.specs import SamplerTable
    from modules.ui.binding import ParamBinding


@dataclass
class PromptRow:
    generate: Any
    paste: Any  # ↙️: reads an infotext pasted into the prompt box back into the fields
    interrupt: Any
    skip: Any
    tools: PromptTools


@dataclass
class SeedControls:
    seed: Any
    random_seed: Any
    reuse_seed: Any


@dataclass
class ResultPanel:
    progress: Any
    gallery: Any
    infotext: Any
    message: Any
    gen_info: Any  # gr.State: {"infotexts", "seeds", "paths"}, one entry per gallery item
    selected: Any  # gr.State: index of the selected gallery item
    send_to_img2img: Any = None
    send_to_inpaint: Any = None

    def outputs(self) -> list[Any]:
        return [self.progress, self.gallery, self.infotext, self.message, self.gen_info, self.selected]


def build_prompt_row(tab: str, binding: ParamBinding[Any], styles: list[str]) -> PromptRow:
    bind = binding.bind
    with gr.Row(elem_id=f"{tab}_toprow"):
        with gr.Column(scale=6, min_width=320):
            bind("prompt", gr.Textbox(label="Prompt", lines=3, max_lines=20, elem_id=f"{tab}_prompt",
                                      placeholder="Prompt"))
            prompt_counter = build_token_counter(f"{tab}_token_counter")
            bind("negative_prompt", gr.Textbox(label="Negative prompt", lines=2, max_lines=20,
                                               elem_id=f"{tab}_neg_prompt", placeholder="Negative prompt"))
            negative_counter = build_token_counter(f"{tab}_negative_token_counter")
        with gr.Column(scale=1, min_width=200, elem_id=f"{tab}_actions", elem_classes=["sd-actions"]):
            generate = gr.Button("Generate", variant="primary", elem_id=f"{tab}_generate",
                                 elem_classes=["sd-generate"])
            paste = gr.Button("↙️ Read parameters from prompt", elem_id=f"{tab}_paste", size="sm")
            with gr.Row(elem_classes=["sd-small-buttons"]):
                interrupt = gr.Button("Interrupt", elem_id=f"{tab}_interrupt", size="sm", min_width=60)
                skip = gr.Button("Skip", elem_id=f"{tab}_skip", size="sm", min_width=60)
            style_row = build_styles_row(tab, styles)
    tools = PromptTools(prompt_counter=prompt_counter, negative_counter=negative_counter, **style_row)
    return PromptRow(generate=generate, paste=paste, interrupt=interrupt, skip=skip, tools=tools)


def build_sampler_rows(tab: str, binding: ParamBinding[Any], defaults: GenerationParams,
                       samplers: SamplerTable = CORE_TABLE) -> None:
    """Sampler and schedule-type dropdowns listing samplers (the app's registered ones: sampler_table(app.registry))
    and the steps slider."""
    with gr.Row():
        binding.bind("sampler_name", gr.Dropdown(samplers.sampler_names(), value=defaults.sampler_name,
                                                 label="Sampling method", elem_id=f"{tab}_sampling"))
        binding.bind("scheduler", gr.Dropdown(samplers.schedule_labels(), value=defaults.scheduler,
                                              label="Schedule type", elem_id=f"{tab}_scheduler"))
    binding.bind("steps", gr.Slider(1, 150, value=defaults.steps, step=1, label="Sampling steps",
                                    elem_id=f"{tab}_steps"))


def build_size_rows(tab: str, binding: ParamBinding[Any], defaults: GenerationParams) -> None:
    bind = binding.bind
    with gr.Row():
        with gr.Column(scale=3, min_width=200):
            bind("width", gr.Slider(64, 2048, value=defaults.width, step=8, label="Width", elem_id=f"{tab}_width"))
            bind("height", gr.Slider(64, 2048, value=defaults.height, step=8, label="Height",
                                     elem_id=f"{tab}_height"))
        with gr.Column(scale=2, min_width=160):
            bind("batch_count", gr.Slider(1, 100, value=defaults.batch_count, step=1, label="Batch count",
                                          elem_id=f"{tab}_batch_count"))
            bind("batch_size", gr.Slider(1, 8, value=defaults.batch_size, step=1, label="Batch size",
                                         elem_id=f"{tab}_batch_size"))


def build_cfg(tab: str, binding: ParamBinding[Any], defaults: GenerationParams) -> None:
    binding.bind("cfg_scale", gr.Slider(1, 30, value=defaults.cfg_scale, step=0.5, label="CFG Scale",
                                        elem_id=f"{tab}_cfg_scale"))


def build_seed_row(tab: str, binding: ParamBinding[Any], defaults: GenerationParams) -> SeedControls:
    with gr.Row(equal_height=True):
        seed = binding.bind("seed", gr.Number(value=defaults.seed, label="Seed", precision=0, minimum=-1,
                                              maximum=MAX_SEED, elem_id=f"{tab}_seed", scale=4))
        random_seed = gr.Button("🎲", elem_id=f"{tab}_random_seed", elem_classes=["sd-tool-button"], scale=0,
                                min_width=40)
        reuse_seed = gr.Button("♻️", elem_id=f"{tab}_reuse_seed", elem_classes=["sd-tool-button"], scale=0,
                               min_width=40)
    return SeedControls(seed=seed, random_seed=random_seed, reuse_seed=reuse_seed)


def build_seed_extras(tab: str, binding: ParamBinding[Any], defaults: GenerationParams) -> None:
    """A1111's "Extra" seed options, folded: variation seed and strength, resize seed from width/height."""
    bind = binding.bind
    with gr.Accordion("Extra seed options (variation seed)", open=False, elem_id=f"{tab}_seed_extras"):
        with gr.Row(equal_height=True):
            bind("subseed", gr.Number(value=defaults.subseed, label="Variation seed", precision=0, minimum=-1,
                                      maximum=MAX_SEED, elem_id=f"{tab}_subseed", scale=3))
            bind("subseed_strength", gr.Slider(0, 1, value=defaults.subseed_strength, step=0.01,
                                               label="Variation strength", elem_id=f"{tab}_subseed_strength",
                                               scale=3))
        with gr.Row():
            bind("seed_resize_from_w", gr.Slider(0, 2048, value=defaults.seed_resize_from_w, step=8,
                                                 label="Resize seed from width", elem_id=f"{tab}_seed_resize_from_w"))
            bind("seed_resize_from_h", gr.Slider(0, 2048, value=defaults.seed_resize_from_h, step=8,
                                                 label="Resize seed from height", elem_id=f"{tab}_seed_resize_from_h"))


def build_clip_rows(tab: str, binding: ParamBinding[Any], defaults: GenerationParams) -> None:
    """Clip skip, emphasis mode and the Tiling checkbox (seamless textures)."""
    with gr.Row(equal_height=True):
        binding.bind("clip_skip", gr.Slider(1, 12, value=defaults.clip_skip, step=1, label="Clip skip",
                                            elem_id=f"{tab}_clip_skip", scale=3))
        binding.bind("emphasis", gr.Dropdown(list(EMPHASIS_MODES), value=defaults.emphasis, label="Emphasis mode",
                                             elem_id=f"{tab}_emphasis", scale=2))
        binding.bind("tiling", gr.Checkbox(value=defaults.tiling, label="Tiling", elem_id=f"{tab}_tiling", scale=1,
                                           info="seamless texture"))


def build_override_settings(tab: str) -> Any:
    """A1111's "Override settings" box: hidden until ↙️ or a send button reads an infotext that records a
    setting (such as "Noise Schedule: Zero Terminal SNR") other than the one in effect; the tab's
    generations then run with the values left in it (read by override_settings.options_from_labels)."""
    return gr.Dropdown([], value=[], multiselect=True, label="Override settings", visible=False,
                       elem_id=f"{tab}_override_settings", info="settings read from pasted parameters, "
                       "for this tab's generations only; remove one to use your own setting")


def override_settings_update(labels: list[str]) -> Any:
    """The Override settings box showing labels (all chosen), hidden when there are none."""
    return gr.update(choices=labels, value=labels, visible=bool(labels))


def build_result_panel(tab: str, send_buttons: bool = False) -> ResultPanel:
    """The results column's contents (inside the caller's Column)."""
    progress = gr.HTML("", elem_id=f"{tab}_progress", elem_classes=["sd-progress-box"], padding=False)
    gallery = gr.Gallery(label="Output", elem_id=f"{tab}_gallery", columns=4, height=512, format="png",
                         object_fit="contain", preview=True, interactive=False, buttons=["download", "fullscreen"])
    to_img2img = to_inpaint = None
    if send_buttons:
        with gr.Row(elem_id=f"{tab}_send_buttons"):
            to_img2img = gr.Button("🖼️ Send to img2img", elem_id=f"{tab}_send_to_img2img", size="sm")
            to_inpaint = gr.Button("🎨️ Send to inpaint", elem_id=f"{tab}_send_to_inpaint", size="sm")
    infotext = gr.Textbox(label="Generation parameters", lines=4, max_lines=12, interactive=False,
                          elem_id=f"{tab}_infotext", elem_classes=["sd-infotext"], buttons=["copy"])
    message = gr.HTML("", elem_id=f"{tab}_message", elem_classes=["sd-message-box"], padding=False)
    return ResultPanel(progress=progress, gallery=gallery, infotext=infotext, message=message, gen_info=gr.State({}),
                       selected=gr.State(0), send_to_img2img=to_img2img, send_to_inpaint=to_inpaint)
