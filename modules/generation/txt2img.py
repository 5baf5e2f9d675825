"""txt2img(app, params): prompt → images on disk (with infotext) → result for the front door.

The work is done by the shared generation path (modules/generation/pipeline.py); the txt2img task
only says that each batch starts from the seeds' noise (variation seeds: variation_noise.py; plus, for
inpainting checkpoints, an all-masked grey image as their extra input) and which infotext keys the
hires fix adds (its second pass: hires.py, run by the pipeline).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from modules.generation.denoise import Hooks
from modules.generation.params import Txt2ImgParams
from modules.generation.pipeline import BatchStart, GenerationResult, generate, resolve_seed

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from modules.app import App
    from modules.jobs import Job, Progress
    from modules.model_manager.loaded_model import LoadedModel

__all__ = ["GenerationResult", "Txt2ImgTask", "resolve_seed", "run_txt2img", "submit_txt2img", "txt2img"]


@dataclass
class Txt2ImgTask:
    params: Txt2ImgParams
    kind: str = "txt2img"
    image_cond: Any = None  # [1, 1 + C, h, w] for inpainting checkpoints (everything masked), else None

    def prepare(self, model: LoadedModel) -> None:
        from modules.generation.image_conditioning import needs_image_conditioning, txt2img_conditioning

        if needs_image_conditioning(model):
            self.image_cond = txt2img_conditioning(model, 1, self.params.width, self.params.height)

    def extra_infotext(self) -> dict[str, object]:
        from modules.generation.hires import hires_infotext

        return hires_infotext(self.params)

    def start_batch(self, model: LoadedModel, first_index: int, seeds: list[int],
                    generators: list[torch.Generator], scheduler: Any) -> BatchStart:
        from modules.generation.variation_noise import variation_noise

        p = self.params
        image_cond = self.image_cond.repeat(len(seeds), 1, 1, 1) if self.image_cond is not None else None
        noise = variation_noise(model, p, seeds, first_index, p.width, p.height, generators)
        return BatchStart(noise=noise, image_cond=image_cond)

    def finish_latents(self, latents: torch.Tensor) -> torch.Tensor:
        return latents

    def finish_images(self, images: list[Image.Image], first_index: int) -> list[Image.Image]:
        return images


def txt2img(app: App, params: Txt2ImgParams, progress: Progress, hooks: Hooks | None = None, *,
            save_images: bool = True, save_grid: bool = True,
            options: Mapping[str, Any] | None = None, vae: str | None = None) -> GenerationResult:
    """Generate params.batch_count batches of params.batch_size images. Each image is saved before it is returned.

    Image i (over all batches) gets seed + i. Interrupt keeps the images already finished.
    save_images/save_grid False (the API's default) keep the images in memory only. options: run options
    (RUN_OPTIONS) for this run instead of the app's (a request's override_settings); vae: this run's VAE
    choice (the app's selected one stays).
    """
    from modules.generation.hires import find_hires_upscaler
    from modules.generation.variation_noise import with_resolved_subseed

    params = with_resolved_subseed(params)  # once, so the task and the infotext see the same one
    if params.enable_hr:  # an unknown upscaler fails before any work; the infotext gets its own spelling
        params = replace(params, hr_upscaler=find_hires_upscaler(app.registry, params.hr_upscaler))
    return generate(app, params, progress, Txt2ImgTask(params), hooks, save_images=save_images, save_grid=save_grid,
                    options=options, vae=vae)


def submit_txt2img(app: App, params: Txt2ImgParams, owner: str = "", hooks: Hooks | None = None,
                   options: Mapping[str, Any] | None = None) -> Job[GenerationResult]:
    """Queue txt2img in the app's job queue; returns the Job (its own progress, position, Interrupt) at once.
    options: run options for this job only (the UI's Override settings)."""
    return app.jobs.submit("txt2img", lambda progress: txt2img(app, params, progress, hooks, options=options), owner=owner)


def run_txt2img(app: App, params: Txt2ImgParams, hooks: Hooks | None = None, owner: str = "",
                options: Mapping[str, Any] | None = None) -> GenerationResult:
    """txt2img through the app's job queue: waits for its turn and for the result."""
    return submit_txt2img(app, params, owner, hooks, options).result()
