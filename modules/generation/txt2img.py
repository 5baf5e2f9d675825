"""txt2img(app, params): prompt → images on disk (with infotext) → result for the front door."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from modules.errors import Interrupted
from modules.generation.denoise import Hooks, SkipBatch, denoise
from modules.generation.params import MAX_SEED, Txt2ImgParams
from modules.messages import msg

if TYPE_CHECKING:
    from PIL import Image

    from modules.app import App
    from modules.jobs import Job, Progress

log = logging.getLogger(__name__)


@dataclass
class GenerationResult:
    images: list[Image.Image] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    infotexts: list[str] = field(default_factory=list)
    grid: Image.Image | None = None
    grid_path: Path | None = None
    interrupted: bool = False
    message: str = ""


def resolve_seed(seed: int) -> int:
    return random.randint(0, MAX_SEED) if seed == -1 else seed


def txt2img(app: App, params: Txt2ImgParams, progress: Progress, hooks: Hooks | None = None, *,
            save_images: bool = True, save_grid: bool = True) -> GenerationResult:
    """Generate params.batch_count batches of params.batch_size images. Each image is saved before it is returned.

    Image i (over all batches) gets seed + i. Interrupt keeps the images already finished.
    save_images/save_grid False (the API's default) keep the images in memory only.
    """
    import torch

    from modules.generation.grid import make_grid
    from modules.generation.infotext import create_infotext
    from modules.generation.latents import cpu_generators, decode_latents_checked, initial_noise
    from modules.generation.outputs import dated_folder, save_image
    from modules.generation.outputs import save_grid as write_grid
    from modules.generation.prompt_conditioning import conditioning_schedule, plan_prompts, uses_emphasis
    from modules.networks.activation import networks_applied
    from modules.prompt_parser import strip_comments
    from modules.samplers.registry import build_scheduler

    params.validate()
    model, info = app.models.require()
    seed = resolve_seed(params.seed)
    # comments are gone before anything else sees the prompts, infotext included (A1111)
    params = replace(params, seed=seed, prompt=strip_comments(params.prompt),
                     negative_prompt=strip_comments(params.negative_prompt))
    plan = plan_prompts(params.prompt, params.negative_prompt, params.steps, comments=False)
    extra: dict[str, object] = {}
    vae = app.networks.vaes.apply(model, info.path)
    if vae is not None:
        extra.update(vae.infotext())
    app.networks.embeddings.ensure_for(model)
    used_embeddings: set[str] = set()
    finders = app.networks.embeddings.finders(model, used_embeddings)
    size = params.batch_size
    progress.batches = params.batch_count
    progress.images_per_batch = size
    outputs = app.settings.outputs_dir
    today = date.today()
    result = GenerationResult()

    # LoRA merged / hypernetworks set for the whole generation, text encoding included; undone on exit
    with networks_applied(app.networks, model, plan.networks) as used_networks, torch.inference_mode():
        extra.update(used_networks.infotext)
        conditioning = conditioning_schedule(model, plan, size, params.clip_skip, params.emphasis,
                                             find_embedding=finders)
        ti_hashes = app.networks.embeddings.hashes_infotext(used_embeddings)
        if ti_hashes:
            extra["TI hashes"] = ti_hashes
        if params.emphasis != "Original" and uses_emphasis(*plan.texts()):
            extra["Emphasis"] = params.emphasis
        nan_retry = False
        for batch in range(params.batch_count):
            seeds = [seed + batch * size + j for j in range(size)]
            generators = cpu_generators(seeds)
            training = dict(model.scheduler_config, noise_sampler_seed=seeds[0])
            scheduler = build_scheduler(params.sampler_name, params.scheduler, training)
            noise = initial_noise(model, seeds, params.width, params.height, generators)
            progress.skipped = False
            try:
                latents = denoise(model, scheduler, noise, conditioning, params.cfg_scale,
                                  params.steps, params.width, params.height, generators, progress, hooks)
            except SkipBatch:
                progress.batch = batch + 1
                continue
            except Interrupted:
                result.interrupted = True
                break
            images, retried = decode_latents_checked(model, latents)
            nan_retry = nan_retry or retried
            for image, image_seed in zip(images, seeds, strict=True):
                text = create_infotext(params.with_seed(image_seed), image_seed, info.stem, info.shorthash, extra)
                if save_images:
                    result.paths.append(save_image(image, dated_folder(outputs, "txt2img-images", today),
                                                   image_seed, text))
                result.images.append(image)
                result.seeds.append(image_seed)
                result.infotexts.append(text)
            progress.batch = batch + 1

    if len(result.images) > 1:
        result.grid = make_grid(result.images)
        if save_grid:
            result.grid_path = write_grid(result.grid, dated_folder(outputs, "txt2img-grids", today),
                                         result.infotexts[0])
    folder = result.paths[0].parent if result.paths else dated_folder(outputs, "txt2img-images", today)
    total = params.batch_count * size
    if result.interrupted:
        result.message = msg("interrupted", done=len(result.images), total=total)
    elif save_images:
        result.message = msg("saved", count=len(result.images), folder=folder)
    else:
        result.message = msg("generated_not_saved", count=len(result.images))
    if nan_retry:
        result.message += " " + msg("vae_nan_retry")
    for notice in used_networks.notices:
        result.message += " " + notice
    return result


def submit_txt2img(app: App, params: Txt2ImgParams, owner: str = "", hooks: Hooks | None = None) -> Job[GenerationResult]:
    """Queue txt2img in the app's job queue; returns the Job (its own progress, position, Interrupt) at once."""
    return app.jobs.submit("txt2img", lambda progress: txt2img(app, params, progress, hooks), owner=owner)


def run_txt2img(app: App, params: Txt2ImgParams, hooks: Hooks | None = None, owner: str = "") -> GenerationResult:
    """txt2img through the app's job queue: waits for its turn and for the result."""
    return submit_txt2img(app, params, owner, hooks).result()
