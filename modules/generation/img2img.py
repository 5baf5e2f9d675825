"""img2img(app, params): init image(s) (+ optional inpainting mask) → images on disk → result for the front door.

Runs the shared generation path (modules/generation/pipeline.py) with an img2img task: the init
images are prepared (img2img_prep) and VAE-encoded once; each batch starts from their latents
noised to the denoising strength (denoise's `init`/`strength`: about steps x strength steps run);
with a mask, an InpaintBlend hook keeps the unmasked region on the init latents at every step and
the original pixels are pasted back outside the blurred mask after decoding. Image i of a batch
starts from init_images[i % len(init_images)]. Outputs go to outputs/img2img-images and -grids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modules.generation.denoise import HookPoint, Hooks
from modules.generation.params import Img2ImgParams
from modules.generation.pipeline import BatchStart, GenerationResult, generate

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from modules.app import App
    from modules.generation.img2img_prep import PreparedImage
    from modules.generation.inpaint import InpaintBlend
    from modules.jobs import Job, Progress
    from modules.model_manager.loaded_model import LoadedModel


@dataclass
class Img2ImgTask:
    params: Img2ImgParams
    kind: str = "img2img"
    prepared: list[PreparedImage] = field(default_factory=list)
    latents: Any = None  # [len(init_images), C, h, w] encoded init images
    masks: Any = None  # [len(init_images), 1, h, w] latent masks (1 = repaint), None without a mask
    blend: InpaintBlend | None = None  # the running batch's blend, for finish_latents
    image_cond: Any = None  # [len(init_images), 1 + C, h, w] for inpainting checkpoints, else None

    def prepare(self, model: LoadedModel) -> None:
        from modules.generation.image_conditioning import inpainting_conditioning, needs_image_conditioning
        from modules.generation.img2img_prep import prepare_image
        from modules.generation.inpaint import latent_mask
        from modules.generation.latent_resize import encode_prepared

        self.prepared = [prepare_image(image, self.params) for image in self.params.init_images]
        self.latents = encode_prepared(model, self.prepared, self.params.width, self.params.height)
        if self.params.mask is not None:
            f = model.vae_scale_factor
            masks = [p.mask for p in self.prepared if p.mask is not None]
            self.masks = latent_mask(masks, self.params.width // f, self.params.height // f,
                                     self.params.mask_round).to(self.latents)
        if needs_image_conditioning(model):
            self.image_cond = inpainting_conditioning(model, [p.pixels for p in self.prepared],
                                                      [p.mask for p in self.prepared])

    def extra_infotext(self) -> dict[str, object]:
        from modules.generation.img2img_infotext import img2img_infotext

        return img2img_infotext(self.params)

    def _pick(self, tensor: torch.Tensor, first_index: int, count: int) -> torch.Tensor:
        index = [(first_index + j) % tensor.shape[0] for j in range(count)]
        return tensor[index]

    def start_batch(self, model: LoadedModel, first_index: int, seeds: list[int],
                    generators: list[torch.Generator], scheduler: Any) -> BatchStart:
        from modules.generation.inpaint import InpaintBlend, masked_content
        from modules.generation.variation_noise import variation_noise

        p = self.params
        noise = variation_noise(model, p, seeds, first_index, p.width, p.height, generators) * p.initial_noise_multiplier
        init = self._pick(self.latents, first_index, len(seeds))
        image_cond = self._pick(self.image_cond, first_index, len(seeds)) if self.image_cond is not None else None
        self.blend = None
        if self.masks is None:
            return BatchStart(noise=noise, init=init, strength=p.denoising_strength, image_cond=image_cond)
        mask = self._pick(self.masks, first_index, len(seeds))
        init = masked_content(init, mask, p.inpainting_fill, generators)
        self.blend = InpaintBlend(scheduler, init, noise, mask)
        hooks = Hooks()
        hooks.add(HookPoint.POST_STEP, self.blend)
        return BatchStart(noise=noise, init=init, strength=p.denoising_strength, hooks=hooks, image_cond=image_cond)

    def finish_latents(self, latents: torch.Tensor) -> torch.Tensor:
        return self.blend.blend(latents) if self.blend is not None else latents

    def finish_images(self, images: list[Image.Image], first_index: int) -> list[Image.Image]:
        from modules.generation.img2img_prep import apply_overlay

        count = len(self.prepared)
        return [apply_overlay(image, self.prepared[(first_index + j) % count]) for j, image in enumerate(images)]


def img2img(app: App, params: Img2ImgParams, progress: Progress, hooks: Hooks | None = None, *,
            save_images: bool = True, save_grid: bool = True,
            options: Mapping[str, Any] | None = None, vae: str | None = None) -> GenerationResult:
    """Generate params.batch_count batches of params.batch_size images from the init images; each is saved first.

    Image i (over all batches) gets seed + i. Interrupt keeps the images already finished.
    save_images/save_grid False (the API's default) keep the images in memory only. options: run options
    (RUN_OPTIONS) for this run instead of the app's (a request's override_settings); vae: this run's VAE
    choice (the app's selected one stays).
    """
    from modules.generation.variation_noise import with_resolved_subseed

    params = with_resolved_subseed(params)  # once, so the task and the infotext see the same one
    return generate(app, params, progress, Img2ImgTask(params), hooks, save_images=save_images, save_grid=save_grid,
                    options=options, vae=vae)


def submit_img2img(app: App, params: Img2ImgParams, owner: str = "", hooks: Hooks | None = None,
                   options: Mapping[str, Any] | None = None) -> Job[GenerationResult]:
    """Queue img2img in the app's job queue; returns the Job (its own progress, position, Interrupt) at once.
    options: run options for this job only (the UI's Override settings)."""
    return app.jobs.submit("img2img", lambda progress: img2img(app, params, progress, hooks, options=options), owner=owner)


def run_img2img(app: App, params: Img2ImgParams, hooks: Hooks | None = None, owner: str = "",
                options: Mapping[str, Any] | None = None) -> GenerationResult:
    """img2img through the app's job queue: waits for its turn and for the result."""
    return submit_img2img(app, params, owner, hooks, options).result()
