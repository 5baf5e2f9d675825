"""The txt2img tab: prompt, parameters, Generate/Interrupt/Skip, progress bar, gallery and infotext.

Generate submits txt2img to the shared job queue as this browser session's job and, while it waits,
shows its place in the queue, then its own progress every POLL_SECONDS; then the gallery (grid
first when there is one, as A1111 does), the infotext of the first image and the result message.
Interrupt and Skip are not queued, so they act at once; they touch only this session's jobs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import gradio as gr

from modules.errors import UserError
from modules.generation.params import MAX_SEED, Txt2ImgParams
from modules.generation.preview import live_preview
from modules.generation.prompt_chunks import EMPHASIS_MODES
from modules.messages import msg
from modules.samplers.registry import sampler_names, schedule_labels
from modules.ui.binding import ParamBinding
from modules.ui.progress import job_progress_html, message_html, progress_html
from modules.ui.prompt_tools import (
    PromptTools,
    build_styles_row,
    build_token_counter,
    style_names,
    styled_prompts,
    wire_prompt_tools,
)

if TYPE_CHECKING:
    from modules.app import App
    from modules.generation.txt2img import GenerationResult

log = logging.getLogger(__name__)

POLL_SECONDS = 0.4
DEFAULTS = Txt2ImgParams()


@dataclass
class Txt2ImgTab:
    binding: ParamBinding[Txt2ImgParams]
    generate: Any
    interrupt: Any
    skip: Any
    progress: Any
    gallery: Any
    infotext: Any
    message: Any
    gen_info: Any  # gr.State: {"infotexts": [...], "seeds": [...]}, one entry per gallery item
    selected: Any  # gr.State: index of the selected gallery item
    seed: Any
    random_seed: Any
    reuse_seed: Any
    prompt_tools: PromptTools | None = None
    paste: Any = None  # reads an infotext pasted into the prompt box back into the fields


def gallery_info(result: GenerationResult) -> tuple[list[str], dict[str, list[Any]]]:
    """Gallery items (grid first, then the images) and the infotext/seed of each item."""
    items = [str(p) for p in result.paths]
    infotexts = list(result.infotexts)
    seeds = list(result.seeds)
    if result.grid_path is not None and result.infotexts:
        items.insert(0, str(result.grid_path))
        infotexts.insert(0, result.infotexts[0])
        seeds.insert(0, result.seeds[0])
    return items, {"infotexts": infotexts, "seeds": seeds}


def session_owner(request: gr.Request | None) -> str:
    """The job owner key of one browser session (one page load); 'ui:local' when called without one."""
    session = getattr(request, "session_hash", None) if request is not None else None
    return f"ui:{session or 'local'}"


def _build_components(styles: list[str] | None = None) -> Txt2ImgTab:
    binding: ParamBinding[Txt2ImgParams] = ParamBinding(Txt2ImgParams)
    bind = binding.bind
    with gr.Row(elem_id="txt2img_toprow"):
        with gr.Column(scale=6, min_width=320):
            bind("prompt", gr.Textbox(label="Prompt", lines=3, max_lines=20, elem_id="txt2img_prompt",
                                      placeholder="Prompt"))
            prompt_counter = build_token_counter("txt2img_token_counter")
            bind("negative_prompt", gr.Textbox(label="Negative prompt", lines=2, max_lines=20,
                                               elem_id="txt2img_neg_prompt", placeholder="Negative prompt"))
            negative_counter = build_token_counter("txt2img_negative_token_counter")
        with gr.Column(scale=1, min_width=200, elem_id="txt2img_actions"):
            generate = gr.Button("Generate", variant="primary", elem_id="txt2img_generate")
            paste = gr.Button("↙️ Read parameters from prompt", elem_id="txt2img_paste", size="sm")
            with gr.Row(elem_classes=["sd-small-buttons"]):
                interrupt = gr.Button("Interrupt", elem_id="txt2img_interrupt", size="sm", min_width=60)
                skip = gr.Button("Skip", elem_id="txt2img_skip", size="sm", min_width=60)
            style_row = build_styles_row("txt2img", styles or [])
    with gr.Row(elem_id="txt2img_main"):
        with gr.Column(scale=1, min_width=320, elem_id="txt2img_settings"):
            with gr.Row():
                bind("sampler_name", gr.Dropdown(sampler_names(), value=DEFAULTS.sampler_name, label="Sampling method",
                                                 elem_id="txt2img_sampling"))
                bind("scheduler", gr.Dropdown(schedule_labels(), value=DEFAULTS.scheduler, label="Schedule type",
                                              elem_id="txt2img_scheduler"))
            bind("steps", gr.Slider(1, 150, value=DEFAULTS.steps, step=1, label="Sampling steps",
                                    elem_id="txt2img_steps"))
            with gr.Row():
                with gr.Column(scale=3, min_width=200):
                    bind("width", gr.Slider(64, 2048, value=DEFAULTS.width, step=8, label="Width",
                                            elem_id="txt2img_width"))
                    bind("height", gr.Slider(64, 2048, value=DEFAULTS.height, step=8, label="Height",
                                             elem_id="txt2img_height"))
                with gr.Column(scale=2, min_width=160):
                    bind("batch_count", gr.Slider(1, 100, value=DEFAULTS.batch_count, step=1, label="Batch count",
                                                  elem_id="txt2img_batch_count"))
                    bind("batch_size", gr.Slider(1, 8, value=DEFAULTS.batch_size, step=1, label="Batch size",
                                                 elem_id="txt2img_batch_size"))
            bind("cfg_scale", gr.Slider(1, 30, value=DEFAULTS.cfg_scale, step=0.5, label="CFG Scale",
                                        elem_id="txt2img_cfg_scale"))
            with gr.Row(equal_height=True):
                seed = bind("seed", gr.Number(value=DEFAULTS.seed, label="Seed", precision=0, minimum=-1,
                                              maximum=MAX_SEED, elem_id="txt2img_seed", scale=4))
                random_seed = gr.Button("🎲", elem_id="txt2img_random_seed", elem_classes=["sd-tool-button"],
                                        scale=0, min_width=40)
                reuse_seed = gr.Button("♻️", elem_id="txt2img_reuse_seed", elem_classes=["sd-tool-button"],
                                       scale=0, min_width=40)
            with gr.Row(equal_height=True):
                bind("clip_skip", gr.Slider(1, 12, value=DEFAULTS.clip_skip, step=1, label="Clip skip",
                                            elem_id="txt2img_clip_skip", scale=3))
                bind("emphasis", gr.Dropdown(list(EMPHASIS_MODES), value=DEFAULTS.emphasis, label="Emphasis mode",
                                             elem_id="txt2img_emphasis", scale=2))
        with gr.Column(scale=1, min_width=320, elem_id="txt2img_results"):
            progress = gr.HTML("", elem_id="txt2img_progress", padding=False)
            gallery = gr.Gallery(label="Output", elem_id="txt2img_gallery", columns=4, height=512, format="png",
                                 object_fit="contain", preview=True, interactive=False,
                                 buttons=["download", "fullscreen"])
            infotext = gr.Textbox(label="Generation parameters", lines=4, max_lines=12, interactive=False,
                                  elem_id="txt2img_infotext", buttons=["copy"])
            message = gr.HTML("", elem_id="txt2img_message", padding=False)
    return Txt2ImgTab(binding=binding, generate=generate, interrupt=interrupt, skip=skip, progress=progress,
                      gallery=gallery, infotext=infotext, message=message, gen_info=gr.State({}),
                      selected=gr.State(0), seed=seed, random_seed=random_seed, reuse_seed=reuse_seed,
                      prompt_tools=PromptTools(prompt_counter=prompt_counter, negative_counter=negative_counter,
                                               **style_row), paste=paste)


def build_txt2img_tab(app: App) -> Txt2ImgTab:
    """Create the tab's components (inside the caller's Tab context) and wire their handlers."""
    from modules.generation import txt2img as txt2img_module

    tab = _build_components(style_names(app))
    binding = tab.binding
    tools = tab.prompt_tools
    assert tools is not None
    from modules.ui.extra_networks import build_extra_networks_panel

    build_extra_networks_panel(app, binding.components["prompt"])

    def generate(request: gr.Request | None = None, **fields: Any):  # noqa: ANN202 - yields {component: value}
        selected_styles = fields.pop("styles", None)  # merged into the prompts now, as A1111 does
        try:
            params = binding.params(fields)
            if selected_styles:
                prompt, negative = styled_prompts(app, params.prompt, params.negative_prompt, selected_styles)
                params = replace(params, prompt=prompt, negative_prompt=negative)
            params.validate()
        except UserError as e:
            yield {tab.progress: "", tab.message: message_html(str(e), "error")}
            return
        job = txt2img_module.submit_txt2img(app, params, owner=session_owner(request))
        ahead = app.jobs.position(job)
        first = msg("waiting_for_job", ahead=ahead) if ahead else msg("starting_job")
        yield {tab.message: "", tab.progress: progress_html(0, first)}
        shown, shown_preview = first, -1
        while not job.wait(POLL_SECONDS):
            ahead = app.jobs.position(job)
            if ahead:
                text = msg("waiting_for_job", ahead=ahead)
                if text != shown:
                    shown = text
                    yield {tab.progress: progress_html(0, text)}
            elif job.progress.active and job.progress.total_steps:
                update = {tab.progress: job_progress_html(job.progress)}
                preview = live_preview(job.progress, app.options)
                if preview is not None and job.progress.preview_step != shown_preview:
                    shown_preview = job.progress.preview_step
                    update[tab.gallery] = [preview]
                yield update
        try:
            result = job.result()
        except UserError as e:
            yield {tab.progress: "", tab.message: message_html(str(e), "error")}
            return
        except Exception as e:  # noqa: BLE001 - shown to the user; the queue has already moved on
            log.error("txt2img failed", exc_info=e)
            text = msg("unexpected_error", error=f"{type(e).__name__}: {e}")
            yield {tab.progress: "", tab.message: message_html(text, "error")}
            return
        items, info = gallery_info(result)
        yield {tab.progress: "", tab.gallery: items, tab.infotext: info["infotexts"][0] if items else "",
               tab.message: message_html(result.message), tab.gen_info: info, tab.selected: 0}

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
        seeds = (info or {}).get("seeds", [])
        if not seeds:
            return gr.skip()
        return seeds[selected] if 0 <= selected < len(seeds) else seeds[0]

    outputs = [tab.progress, tab.gallery, tab.infotext, tab.message, tab.gen_info, tab.selected]
    generate_events = dict(fn=generate, inputs_kwargs={**binding.inputs(), "styles": tools.styles}, outputs=outputs, show_progress="hidden",
                           concurrency_limit=None, api_visibility="private")
    tab.generate.click(api_name="txt2img", **generate_events)
    tab.interrupt.click(interrupt, queue=False, api_name="txt2img_interrupt", api_visibility="private")
    tab.skip.click(skip, queue=False, api_name="txt2img_skip", api_visibility="private")
    tab.gallery.select(select_image, inputs=tab.gen_info, outputs=[tab.infotext, tab.selected],
                       api_name="txt2img_select_image", api_visibility="private", show_progress="hidden",
                       queue=False)
    tab.random_seed.click(random_seed, outputs=tab.seed, api_name="txt2img_random_seed", api_visibility="private",
                          show_progress="hidden", queue=False)
    tab.reuse_seed.click(reuse_seed, inputs=[tab.gen_info, tab.selected], outputs=tab.seed,
                         api_name="txt2img_reuse_seed", api_visibility="private", show_progress="hidden",
                         queue=False)
    components = binding.components
    wire_prompt_tools(app, "txt2img", tools, components["prompt"], components["negative_prompt"],
                      components["steps"])
    return tab
