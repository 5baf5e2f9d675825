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

    from modules.generation.conditioning import ComposableConditioning, Conditioning
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
    cond: Conditioning | ComposableConditioning  # ComposableConditioning for AND / :weight prompts
    uncond: Conditioning
    cfg_scale: float
    noise_pred: torch.Tensor | None = None
    next_timestep: Any = None  # the timestep the scheduler steps to (None at the last step)


Hook = Callable[[DenoiseState], None]
CondSchedule = Callable[[int, int], tuple["Conditioning | ComposableConditioning", "Conditioning"]]


@dataclass
class Hooks:
    by_point: dict[HookPoint, list[Hook]] = field(default_factory=dict)

    def add(self, point: HookPoint, hook: Hook) -> None:
        self.by_point.setdefault(point, []).append(hook)

    def run(self, point: HookPoint, state: DenoiseState) -> None:
        for hook in self.by_point.get(point, []):
            hook(state)

    def merged(self, other: Hooks | None) -> Hooks:
        """A new Hooks with this one's hooks first, then other's, at each point."""
        joined = Hooks({point: list(hooks) for point, hooks in self.by_point.items()})
        for point, hooks in (other.by_point if other else {}).items():
            joined.by_point.setdefault(point, []).extend(hooks)
        return joined


class SkipBatch(Exception):
    """The user pressed Skip: drop the current batch, go on with the next."""


def _added_cond(model: LoadedModel, cond: Conditioning, width: int, height: int) -> dict[str, torch.Tensor] | None:
    """SDXL's extra conditioning: pooled text embedding and size/crop ids."""
    import torch

    if model.arch != "sdxl":
        return None
    time_ids = torch.tensor([[height, width, 0, 0, height, width]], dtype=cond.embeds.dtype, device=cond.embeds.device)
    return {"text_embeds": cond.pooled, "time_ids": time_ids.repeat(cond.embeds.shape[0], 1)}


def _cat(conds: list[Conditioning]) -> Conditioning:
    import torch

    from modules.generation.conditioning import Conditioning

    pooled = [c.pooled for c in conds]
    joined = torch.cat(pooled) if all(p is not None for p in pooled) else None  # type: ignore[arg-type]
    return Conditioning(embeds=torch.cat([c.embeds for c in conds]), pooled=joined)


def _weighted_parts(cond: Conditioning | ComposableConditioning) -> list[tuple[Conditioning, float]]:
    from modules.generation.conditioning import ComposableConditioning

    return list(cond.parts) if isinstance(cond, ComposableConditioning) else [(cond, 1.0)]


def _predict(model: LoadedModel, latents: torch.Tensor, t: Any, conds: list[Conditioning], width: int,
             height: int, image_cond: torch.Tensor | None = None) -> list[torch.Tensor]:
    """One UNet prediction per conditioning, those with the same token count in one batched call.

    Conditionings of different lengths (a long prompt with a short negative one) run separately,
    as A1111 does by default. image_cond (inpainting checkpoints) is appended to the latents' channels.
    """
    import torch

    if image_cond is not None:
        latents = torch.cat([latents, image_cond.to(latents)], dim=1)

    by_length: dict[int, list[int]] = {}
    for index, cond in enumerate(conds):
        by_length.setdefault(int(cond.embeds.shape[1]), []).append(index)
    results: list[torch.Tensor | None] = [None] * len(conds)
    for indexes in by_length.values():
        group = _cat([conds[i] for i in indexes])
        model_in = torch.cat([latents] * len(indexes))
        with torch.no_grad():
            out = model.unet(model_in, t, encoder_hidden_states=group.embeds,
                             added_cond_kwargs=_added_cond(model, group, width, height)).sample
        for index, chunk in zip(indexes, out.chunk(len(indexes)), strict=True):
            results[index] = chunk
    return results  # type: ignore[return-value]


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
    *,
    init: torch.Tensor | None = None,
    strength: float = 1.0,
    image_cond: torch.Tensor | None = None,
) -> torch.Tensor:
    """Run the sampler from noise (txt2img) or from noised init latents (img2img) to clean latents.

    latents: the seeded starting noise. Without init it is scaled to the scheduler's first sigma and
    all steps run. With init (VAE latents of the init images) the schedule is built for `steps` and
    entered part-way: img2img_steps(steps, strength) steps run, starting from init noised to that
    step's level with scheduler.add_noise (strength 0 runs none and returns init unchanged).
    conditioning(step, total) returns (cond, uncond) for that step, so prompt schedules can switch
    mid-way. cond may be a ComposableConditioning (AND): the guided prediction is then
    uncond + cfg * sum(weight * (cond_k - uncond)). With CFG scale 1 and a plain prompt the
    unconditional pass is skipped (same result, half the work).
    image_cond: the extra input of inpainting checkpoints (mask + masked-image latents), unscaled.
    Raises Interrupted or SkipBatch when the user asks.
    """

    hooks = hooks or Hooks()
    scheduler.set_timesteps(steps, device=latents.device)
    if init is None:
        timesteps = scheduler.timesteps
        latents = latents * scheduler.init_noise_sigma
        if hasattr(scheduler, "set_begin_index"):
            # start at the first step even when the first timesteps repeat (Karras sigmas on a
            # zero-terminal-SNR schedule): diffusers would otherwise start one step late and overrun
            scheduler.set_begin_index(0)
    else:
        timesteps, latents = _enter_at_strength(scheduler, init, latents, steps, strength)
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
                             cfg_scale=cfg_scale, next_timestep=timesteps[i + 1] if i + 1 < total else None)
        hooks.run(HookPoint.PRE_STEP, state)
        parts = _weighted_parts(state.cond)
        guided = state.cfg_scale != 1.0 or len(parts) != 1 or parts[0][1] != 1.0
        conds = [state.uncond, *(part for part, _ in parts)] if guided else [parts[0][0]]
        model_in = scheduler.scale_model_input(state.latents, t)
        preds = _predict(model, model_in, t, conds, width, height, image_cond)
        out = preds[0]
        if guided:
            out_uncond = preds[0]
            for pred, (_, weight) in zip(preds[1:], parts, strict=True):
                out = out + (weight * state.cfg_scale) * (pred - out_uncond)
        state.noise_pred = out
        hooks.run(HookPoint.POST_CFG, state)
        state.latents = scheduler.step(state.noise_pred, t, state.latents, **step_kwargs).prev_sample
        hooks.run(HookPoint.POST_STEP, state)
        latents = state.latents
        if progress is not None:
            progress.step = i + 1
            progress.publish_latents(latents, model)  # live previews are drawn from these on request
    return latents


def img2img_steps(steps: int, strength: float) -> int:
    """Steps actually run for img2img: A1111's count, int(min(strength, 0.999) * steps) + 1, at most steps.

    Strength 1 runs them all from the first (highest-noise) step; strength 0 runs none (the init
    latents come back unchanged, where A1111 would still run one step at the lowest noise level).
    """
    if strength <= 0:
        return 0
    return min(steps, int(min(strength, 0.999) * steps) + 1)


def _enter_at_strength(scheduler: Any, init: torch.Tensor, noise: torch.Tensor, steps: int,
                       strength: float) -> tuple[Any, torch.Tensor]:
    """(timesteps still to run, starting latents): the schedule's tail, and init noised to its first step."""
    run = img2img_steps(steps, strength)
    order = int(getattr(scheduler, "order", 1))
    start = (steps - run) * order  # multi-stage samplers (Heun, DPM2) list each step `order` times
    timesteps = scheduler.timesteps[start:] if run else scheduler.timesteps[:0]
    if not run:
        return timesteps, init.clone()
    if hasattr(scheduler, "set_begin_index"):
        scheduler.set_begin_index(start)
    first = timesteps[:1].repeat(init.shape[0])
    return timesteps, scheduler.add_noise(init, noise.to(init.dtype), first)


def _step_params(scheduler: Any) -> set[str]:
    import inspect

    return set(inspect.signature(scheduler.step).parameters)
