"""THE denoising loop, shared by every task: classifier-free guidance around a diffusers scheduler.

Hook points let later features (prompt editing, extensions, previews) act on each step without
patching anything: each hook gets the DenoiseState and may change its fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from modules.errors import Interrupted

if TYPE_CHECKING:
    import torch

    from modules.generation.conditioning import Conditioning
    from modules.jobs import Progress
    from modules.model_manager.loaded_model import LoadedModel


class HookPoint(Enum):
    PRE_STEP = "pre_step"  # before the UNet call: may change latents or conditioning
    POST_CFG = "post_cfg"  # after guidance is combined: may change noise_pred
    POST_STEP = "post_step"  # after the scheduler step: may read or change latents


@dataclass
class DenoiseState:
    step: int
    total_steps: int
    timestep: Any
    latents: torch.Tensor
    cond: Conditioning
    uncond: Conditioning
    cfg_scale: float
    noise_pred: torch.Tensor | None = None


Hook = Callable[[DenoiseState], None]
CondSchedule = Callable[[int, int], tuple["Conditioning", "Conditioning"]]


@dataclass
class Hooks:
    by_point: dict[HookPoint, list[Hook]] = field(default_factory=dict)

    def add(self, point: HookPoint, hook: Hook) -> None:
        self.by_point.setdefault(point, []).append(hook)

    def run(self, point: HookPoint, state: DenoiseState) -> None:
        for hook in self.by_point.get(point, []):
            hook(state)


class SkipBatch(Exception):
    """The user pressed Skip: drop the current batch, go on with the next."""


def _added_cond(model: LoadedModel, cond: Conditioning, width: int, height: int) -> dict[str, torch.Tensor] | None:
    """SDXL's extra conditioning: pooled text embedding and size/crop ids."""
    import torch

    if model.arch != "sdxl":
        return None
    time_ids = torch.tensor([[height, width, 0, 0, height, width]], dtype=cond.embeds.dtype, device=cond.embeds.device)
    return {"text_embeds": cond.pooled, "time_ids": time_ids.repeat(cond.embeds.shape[0], 1)}


def _cat(a: Conditioning, b: Conditioning) -> Conditioning:
    import torch

    from modules.generation.conditioning import Conditioning

    pooled = torch.cat([a.pooled, b.pooled]) if a.pooled is not None and b.pooled is not None else None
    return Conditioning(embeds=torch.cat([a.embeds, b.embeds]), pooled=pooled)


def denoise(
    model: LoadedModel,
    scheduler: Any,
    latents: torch.Tensor,
    conditioning: CondSchedule,
    cfg_scale: float,
    steps: int,
    width: int,
    height: int,
    generators: list[torch.Generator] | None,
    progress: Progress | None = None,
    hooks: Hooks | None = None,
) -> torch.Tensor:
    """Run the sampler from latents (already noised) to clean latents.

    conditioning(step, total) returns (cond, uncond) for that step, so prompt schedules can switch
    mid-way. With CFG scale 1 the unconditional pass is skipped (same result, half the work).
    Raises Interrupted or SkipBatch when the user asks.
    """
    import torch

    hooks = hooks or Hooks()
    scheduler.set_timesteps(steps, device=latents.device)
    timesteps = scheduler.timesteps
    latents = latents * scheduler.init_noise_sigma
    total = len(timesteps)
    if progress is not None:
        progress.total_steps = total
        progress.step = 0
    step_kwargs: dict[str, Any] = {}
    if generators is not None and "generator" in _step_params(scheduler):
        step_kwargs["generator"] = generators if len(generators) > 1 else generators[0]
    for i, t in enumerate(timesteps):
        if progress is not None and progress.interrupted:
            raise Interrupted()
        if progress is not None and progress.skipped:
            raise SkipBatch()
        cond, uncond = conditioning(i, total)
        state = DenoiseState(step=i, total_steps=total, timestep=t, latents=latents, cond=cond, uncond=uncond,
                             cfg_scale=cfg_scale)
        hooks.run(HookPoint.PRE_STEP, state)
        guided = state.cfg_scale != 1.0
        both = _cat(state.uncond, state.cond) if guided else state.cond
        model_in = torch.cat([state.latents] * 2) if guided else state.latents
        model_in = scheduler.scale_model_input(model_in, t)
        with torch.no_grad():
            out = model.unet(model_in, t, encoder_hidden_states=both.embeds,
                             added_cond_kwargs=_added_cond(model, both, width, height)).sample
        if guided:
            out_uncond, out_cond = out.chunk(2)
            out = out_uncond + state.cfg_scale * (out_cond - out_uncond)
        state.noise_pred = out
        hooks.run(HookPoint.POST_CFG, state)
        state.latents = scheduler.step(state.noise_pred, t, state.latents, **step_kwargs).prev_sample
        hooks.run(HookPoint.POST_STEP, state)
        latents = state.latents
        if progress is not None:
            progress.step = i + 1
    return latents


def _step_params(scheduler: Any) -> set[str]:
    import inspect

    return set(inspect.signature(scheduler.step).parameters)
