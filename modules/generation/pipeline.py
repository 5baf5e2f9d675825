"""The one generation path every task goes through: prompts → conditioning → batches → images on disk.

It runs as passes (modules/generation/passes.py): ENCODE_PROMPT once, then DENOISE and DECODE per batch,
each between the BEFORE_PASS/AFTER_PASS hooks of the request's Hooks; the denoising loop fires the step
and UNet hooks; each finished image meets ON_IMAGE before it is saved and IMAGE_SAVED after.

generate(app, params, progress, task) does what txt2img and img2img share: seed (and variation seed)
resolution, prompt plan, VAE and embeddings, LoRA/hypernetworks applied around the whole run, per-batch seeds and CPU
generators, the shared denoise() loop, decoding (with the fp32 retry), saving with infotext, the
grid, Interrupt/Skip, tiling (tiling.py) and the result message; for txt2img with the hires fix,
its second pass (hires.py) after each batch's first DENOISE. A Task supplies only what differs: how a batch starts
(noise, or init latents at a strength, plus its own hooks), what happens to decoded images, extra
infotext keys, and its output folder names (outputs/<kind>-images, outputs/<kind>-grids).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from modules.errors import Interrupted
from modules.generation.denoise import Hooks, SkipBatch, denoise
from modules.generation.hires import HiresFix, PassProgress, without_hires_keys
from modules.generation.hooks import PassState
from modules.generation.params import MAX_SEED, GenerationParams, Txt2ImgParams
from modules.generation.passes import DECODE, DENOISE, ENCODE_PROMPT, ImageSink, run_pass
from modules.messages import msg

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from modules.app import App
    from modules.generation.filenames import NameFields
    from modules.generation.save_options import SaveOptions
    from modules.jobs import Progress
    from modules.model_manager.loaded_model import LoadedModel


@dataclass
class GenerationResult:
    images: list[Image.Image] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    subseeds: list[int] = field(default_factory=list)  # variation seed per image (subseed + i)
    infotexts: list[str] = field(default_factory=list)
    grid: Image.Image | None = None
    grid_path: Path | None = None
    interrupted: bool = False
    message: str = ""
    scheduler: str = ""  # the schedule type actually used (Automatic resolved for the model)
    warnings: list[str] = field(default_factory=list)  # what went wrong with some images (also in message)


@dataclass
class BatchStart:
    """How one batch begins: its noise, and for img2img the init latents and strength, plus batch hooks."""

    noise: torch.Tensor
    init: torch.Tensor | None = None
    strength: float = 1.0
    hooks: Hooks | None = None
    image_cond: torch.Tensor | None = None  # extra UNet input of inpainting checkpoints (image_conditioning.py)


class Task(Protocol):
    kind: str  # "txt2img" / "img2img": the output folders' prefix

    def prepare(self, model: LoadedModel) -> None:
        """Once per generation, after the VAE is chosen (e.g. encode the init images)."""

    def extra_infotext(self) -> dict[str, object]:
        """Task keys for the infotext (e.g. Denoising strength), in A1111's order."""

    def start_batch(self, model: LoadedModel, first_index: int, seeds: list[int],
                    generators: list[torch.Generator], scheduler: Any) -> BatchStart:
        """first_index: the batch's first image over the whole generation."""

    def finish_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """The denoised latents of the last started batch, before decoding."""

    def finish_images(self, images: list[Image.Image], first_index: int) -> list[Image.Image]:
        """Decoded images of a batch, before saving (e.g. the original pixels pasted back)."""


def resolve_seed(seed: int) -> int:
    return random.randint(0, MAX_SEED) if seed == -1 else seed


def generate(app: App, params: GenerationParams, progress: Progress, task: Task, hooks: Hooks | None = None, *,
             save_images: bool = True, save_grid: bool = True,
             options: Mapping[str, Any] | None = None, vae: str | None = None) -> GenerationResult:
    """Generate params.batch_count batches of params.batch_size images. Each image is saved before it is returned.

    Image i (over all batches) gets seed + i. Interrupt keeps the images already finished; Skip
    drops the current batch. save_images/save_grid False (the API's default) keep images in memory.
    options: values of RUN_OPTIONS for this run instead of the app's (a request's override_settings).
    vae: this run's VAE choice (Automatic, None or a file) instead of the app's selected one, which stays.
    """
    import torch

    from modules.generation.latents import cpu_generators, decode_latents_checked
    from modules.generation.preview import draw_due_preview
    from modules.generation.prompt_conditioning import PromptPlan, conditioning_schedule, plan_prompts, uses_emphasis
    from modules.generation.save_options import SaveOptions, name_fields
    from modules.generation.tiling import tiled
    from modules.generation.variation_noise import with_resolved_subseed
    from modules.networks.activation import networks_applied
    from modules.prompt_parser import strip_comments
    from modules.samplers.noise_schedule import automatic_schedule, noise_schedule_label, with_noise_schedule
    from modules.samplers.registry import build_scheduler, sampler_table, schedule_ignored

    samplers = sampler_table(app.registry)  # the core samplers and those extensions registered
    params.validate(samplers)
    model, info = app.models.require()
    from modules.generation.latents import TILING_KEY
    from modules.generation.tiled_vae import VaeTiling

    # Settings → VAE: tiled VAE; every decode and encode of this run (img2img, hires, inpaint) reads it. A
    # seamless (tiling) run goes through the VAE whole: its tiles would wrap around on themselves (seams)
    model.extra[TILING_KEY] = VaeTiling(always=False, auto_size=0) if params.tiling else \
        VaeTiling.from_options(app.options)
    seed = resolve_seed(params.seed)
    # comments are gone before anything else sees the prompts, infotext included (A1111)
    params = replace(with_resolved_subseed(params), seed=seed, prompt=strip_comments(params.prompt),
                     negative_prompt=strip_comments(params.negative_prompt))
    noise_schedule = (options or {}).get("sd_noise_schedule", app.options.get("sd_noise_schedule", "Default"))
    schedule = with_noise_schedule(model.scheduler_config, str(noise_schedule))
    params = replace(params, scheduler=automatic_schedule(params.sampler_name, params.scheduler, schedule,
                                                                samplers))
    hires = HiresFix.for_run(app, model, params, samplers, schedule) \
        if isinstance(params, Txt2ImgParams) and params.enable_hr else None
    plan = plan_prompts(params.prompt, params.negative_prompt, params.steps, comments=False)
    extra: dict[str, object] = dict(task.extra_infotext())
    extra["Noise Schedule"] = noise_schedule_label(schedule)  # None (the default) is left out
    active_vae = app.networks.vaes.apply(model, info.path, vae)
    if active_vae is not None:
        extra.update(active_vae.infotext())
    app.networks.embeddings.ensure_for(model)
    used_embeddings: set[str] = set()
    finders = app.networks.embeddings.finders(model, used_embeddings)
    size = params.batch_size
    progress.batches = params.batch_count
    progress.images_per_batch = size
    progress.preview_painter = partial(draw_due_preview, progress, app.options)
    saving = SaveOptions.for_run(app, task.kind, options)  # folders, file names, format (options + overrides)
    started = datetime.now()
    save_images = save_images and saving.samples_save
    result = GenerationResult(scheduler=params.scheduler)

    hooks = hooks or Hooks()  # the request's: pass, step, UNet and image hooks
    sink = ImageSink(app, params, info, extra, saving, save_images, started, hooks)
    encoded: dict[str, Any] = {}  # text -> conditioning, shared by the first and the hires pass
    notes: list[str] = []  # said after the result message
    # LoRA merged / hypernetworks set for the whole generation, text encoding included; undone on exit;
    # with tiling the model's convolutions wrap around for the run
    with networks_applied(app.registry.networks.items(), model, plan.networks) as used_networks, \
            tiled(model, params.tiling), torch.inference_mode():
        extra.update(used_networks.infotext)

        def encode(state: PassState, plan: PromptPlan = plan) -> None:
            state.conditioning = conditioning_schedule(model, plan, size, params.clip_skip, params.emphasis,
                                                       find_embedding=finders, encoded=encoded)

        conditioning = run_pass(hooks, PassState(ENCODE_PROMPT, params), encode).conditioning
        if hires is not None:  # the second pass's own schedule (hires prompts, A1111's second-pass rule)
            hr_plan = hires.plan()
            hires.conditioning = run_pass(hooks, PassState(ENCODE_PROMPT, hires.hr),
                                          partial(encode, plan=hr_plan)).conditioning
            extra_tags = [tag for tag in hr_plan.networks if tag not in plan.networks]
            if extra_tags:  # not switched per pass (A1111 does): said, not silently dropped
                notes.append(msg("hires_networks_ignored", tags=", ".join(f"<{t.kind}:{t.name}>" for t in extra_tags)))
        ti_hashes = app.networks.embeddings.hashes_infotext(used_embeddings)
        if ti_hashes:
            extra["TI hashes"] = ti_hashes
        if params.emphasis != "Original" and uses_emphasis(*plan.texts()):
            extra["Emphasis"] = params.emphasis
        task.prepare(model)
        nan_retry = False
        broken_seeds: list[int] = []

        def finish(latents: Any, batch: int, seeds: list[int], pass_params: GenerationParams, to: ImageSink) -> None:
            """DECODE a batch's latents and keep its images (drawn with pass_params) in the result."""
            first, broken = batch * size, set()

            def decode(state: PassState) -> None:
                nonlocal nan_retry
                decoded = decode_latents_checked(model, task.finish_latents(state.latents))
                nan_retry = nan_retry or decoded.retried
                broken.update(decoded.broken)
                state.images = task.finish_images(decoded.images, first)

            images = run_pass(hooks, PassState(DECODE, pass_params, batch, seeds, latents=latents), decode).images
            if len(images) != len(seeds):  # an AFTER_PASS hook may replace images, one for one
                raise RuntimeError(msg("hook_changed_image_count", count=len(images), expected=len(seeds)))
            for index, (image, image_seed) in enumerate(zip(images, seeds, strict=True)):
                if index in broken:  # a blank: never saved, never shown as if it were a picture
                    broken_seeds.append(image_seed)
                    continue
                to.keep(result, image, image_seed, first + index, index)

        for batch in range(params.batch_count):
            first = batch * size
            # image i: seed + i; with a variation strength the seed stays and only the variation seed moves
            # on (A1111), so a batch is variations of one picture
            seeds = [seed + (first + j if params.subseed_strength == 0 else 0) for j in range(size)]
            generators = cpu_generators(seeds)
            training = dict(schedule, noise_sampler_seed=seeds[0], model_arch=model.arch)
            scheduler = build_scheduler(params.sampler_name, params.scheduler, training, samplers)
            start = task.start_batch(model, first, seeds, generators, scheduler)
            progress.skipped = False
            first_progress = PassProgress(progress, 0, hires.planned_steps() if hires is not None else 0)

            def run_denoise(state: PassState, start: BatchStart = start, generators: list = generators,
                            scheduler: Any = scheduler, first_progress: PassProgress = first_progress) -> None:
                state.latents = denoise(model, scheduler, state.latents, state.conditioning, params.cfg_scale,
                                        params.steps, params.width, params.height, generators,
                                        first_progress,  # type: ignore[arg-type]
                                        (start.hooks or Hooks()).merged(hooks), init=start.init,
                                        strength=start.strength, image_cond=start.image_cond)

            try:
                denoised = run_pass(hooks, PassState(DENOISE, params, batch, seeds, conditioning, start.noise),
                                    run_denoise)
                latents, pass_params = denoised.latents, params
                if hires is not None:
                    latents = _hires_pass(hires, hooks, denoised.latents, batch, seeds,
                                          PassProgress(progress, first_progress.pass_total))
                    pass_params = hires.hr
            except SkipBatch:
                progress.batch = batch + 1
                continue
            except _HiresInterrupted as stopped:  # the first pass is finished: keep it, without the hires keys
                result.interrupted = True
                finish(stopped.latents, batch, seeds, params, replace(sink, extra=without_hires_keys(extra)))
                notes.append(msg("hires_interrupted", count=len(seeds)))
                break
            except Interrupted:
                result.interrupted = True
                break
            finish(latents, batch, seeds, pass_params, sink)
            progress.batch = batch + 1

    _finish(params, result, saving, name_fields(params, seed, info.stem, info.shorthash, 0, started), save_images,
            save_grid and saving.grid_save)
    for note in notes:
        result.message += " " + note
    if nan_retry:
        result.message += " " + msg("vae_nan_retry")
    if broken_seeds:
        result.warnings.append(_broken_images_warning(model, info.name, params, broken_seeds))
        result.message += " " + result.warnings[-1]
    for notice in used_networks.notices:
        result.message += " " + notice
    if schedule_ignored(params.sampler_name, params.scheduler, samplers):
        result.message += " " + msg("schedule_ignored", sampler=params.sampler_name, schedule=params.scheduler)
    return result


class _HiresInterrupted(Exception):
    """Interrupt during the hires pass; latents: the batch's finished first pass."""

    def __init__(self, latents: Any) -> None:
        super().__init__()
        self.latents = latents


def _hires_pass(hires: HiresFix, hooks: Hooks, latents: Any, batch: int, seeds: list[int],
                progress: PassProgress) -> Any:
    """The hires fix's DENOISE pass on a batch's first-pass latents; its clean latents (DECODE follows)."""
    from modules.generation.latents import decode_latents

    first = latents
    try:
        upscaled = hires.start_latents(latents, lambda lat: decode_latents(hires.model, lat))
        noise, work = hires.denoise(upscaled, seeds, batch * len(seeds), progress, hooks)
        return run_pass(hooks, PassState(DENOISE, hires.hr, batch, seeds, hires.conditioning, noise), work).latents
    except Interrupted:
        raise _HiresInterrupted(first) from None


def _broken_images_warning(model: LoadedModel, checkpoint: str, params: GenerationParams, seeds: list[int]) -> str:
    """Why images came out as NaN: a checkpoint whose weights hold NaN or infinite values (looked for only
    now: a pass over the weights) draws nothing else; otherwise the sampler or half precision broke down."""
    import torch

    found = {"count": len(seeds), "seeds": ", ".join(map(str, seeds))}
    damaged = model.nonfinite_weights()
    if damaged:
        hint = msg("try_full_precision") if model.dtype in (torch.float16, torch.bfloat16) else ""
        return msg("images_from_damaged_weights", **found, checkpoint=checkpoint, tensors=len(damaged),
                   first=damaged[0], dtype=str(model.dtype).removeprefix("torch."), hint=hint)
    return msg("images_not_finite", **found, sampler=params.sampler_name, schedule=params.scheduler,
               steps=params.steps)


def _finish(params: GenerationParams, result: GenerationResult, saving: SaveOptions, fields: NameFields,
            save_images: bool, save_grid: bool) -> None:
    """The grid (saved to the grids folder when asked) and the result message."""
    from modules.generation.grid import make_grid

    if len(result.images) > 1:
        result.grid = make_grid(result.images)
        if save_grid:
            result.grid_path = saving.save_grid(result.grid, fields, result.infotexts[0])
    folder = result.paths[0].parent if result.paths else saving.image_folder(fields)
    total = params.batch_count * params.batch_size
    if result.interrupted:
        result.message = msg("interrupted", done=len(result.images), total=total)
    elif save_images:
        result.message = msg("saved", count=len(result.images), folder=folder)
    else:
        result.message = msg("generated_not_saved", count=len(result.images))
