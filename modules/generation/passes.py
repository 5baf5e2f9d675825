"""The passes of one generation, and the hook points a request's Hooks meet around them.

    ENCODE_PROMPT   once: the prompts → the conditioning schedule (LoRA and embeddings applied)
    DENOISE         per batch: the start noise (or init latents) → clean latents, THE loop (denoise.py)
    DECODE          per batch: latents → images (the task's finish_latents/finish_images around the VAE)
    txt2img's hires fix (hires.py): one more ENCODE_PROMPT (the hires prompts' schedule) at the start, and
    per batch one more DENOISE on the upscaled first pass; DECODE then decodes the second pass only
    (PassState.params is the second pass's: the hires size, steps, sampler, CFG and prompts)

Every pass fires BEFORE_PASS and AFTER_PASS with its PassState (modules/generation/hooks.py); the
pipeline (pipeline.py) runs the passes in order. Each finished image then meets ON_IMAGE (before
its infotext is written and it is saved) and IMAGE_SAVED (after).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from modules.generation.hooks import HookPoint, Hooks, ImageState, PassState

if TYPE_CHECKING:
    from PIL import Image

    from modules.app import App
    from modules.generation.params import GenerationParams
    from modules.generation.pipeline import GenerationResult
    from modules.generation.save_options import SaveOptions
    from modules.model_manager.folders import CheckpointInfo

ENCODE_PROMPT, DENOISE, DECODE = "encode_prompt", "denoise", "decode"
PASSES = (ENCODE_PROMPT, DENOISE, DECODE)


def run_pass(hooks: Hooks | None, state: PassState, work: Callable[[PassState], None]) -> PassState:
    """BEFORE_PASS hooks, work(state) (which fills the pass's outputs in state), AFTER_PASS hooks."""
    if hooks:
        hooks.run(HookPoint.BEFORE_PASS, state)
    work(state)
    if hooks:
        hooks.run(HookPoint.AFTER_PASS, state)
    return state


@dataclass
class ImageSink:
    """Where a generation's finished images go: infotext, ON_IMAGE/IMAGE_SAVED hooks, the disk, the result."""

    app: App
    params: GenerationParams
    info: CheckpointInfo
    extra: dict[str, object]  # the generation's infotext keys (task, VAE, networks, ...)
    saving: SaveOptions
    save_images: bool
    started: datetime
    hooks: Hooks = field(default_factory=Hooks)

    def keep(self, result: GenerationResult, image: Image.Image, seed: int, index: int, batch_index: int) -> None:
        """One image of a batch (batch_index within it; index over the generation): infotext, saved, listed."""
        from modules.generation.infotext import create_infotext
        from modules.generation.save_options import name_fields

        params = replace(self.params.with_seed(seed), subseed=self.params.subseed + index)  # image i: subseed + i
        state = ImageState(image=image, params=params, seed=seed, index=index)
        self.hooks.run(HookPoint.ON_IMAGE, state)
        extra = {**self.extra, **{k: v for k, v in state.extra.items() if k not in self.extra}}
        state.infotext = create_infotext(params, seed, self.info.stem, self.info.shorthash, extra)
        if self.save_images:
            fields = name_fields(params, seed, self.info.stem, self.info.shorthash, batch_index, self.started)
            state.path = self.saving.save_sample(state.image, fields, state.infotext)
            result.paths.append(state.path)
            self.app.extensions.callbacks.fire("image_saved", self.app, state.path, state.infotext)
        self.hooks.run(HookPoint.IMAGE_SAVED, state)
        result.images.append(state.image)
        result.seeds.append(seed)
        result.subseeds.append(params.subseed)
        result.infotexts.append(state.infotext)
