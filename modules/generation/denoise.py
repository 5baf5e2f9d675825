"""THE denoising loop, shared by every task: classifier-free guidance around a diffusers scheduler.

Hook points let later features (prompt editing, extensions, scripts) act on each step without patching
anything: PRE_STEP/POST_CFG/POST_STEP hooks get the DenoiseState and may change its fields; AROUND_UNET
hooks wrap the model call (modules/generation/hooks.py has them all, with the order they fire in).

What a scheduler may ask of the loop beyond the diffusers interface (each one optional, found by looking):
- step() parameters `generator`, `uncond_pred` and `cfg_scale`: passed when its signature names them (the
  per-image generators; the unconditional prediction, which the loop then always computes, even at CFG 1;
  the CFG scale of the step). DDIM CFG++ (modules/samplers/ddim_cfgpp.py) takes uncond_pred.
- next_timestep() -> the timestep of its next model evaluation, or None when it is done: a scheduler that
  decides its own number of evaluations as it runs (DPM adaptive; Heun PP2 and Restart, whose evaluations per step vary). The
  loop then takes its timesteps from it one at a time instead of from scheduler.timesteps (which still
  gives img2img its entry point), sets progress.total_steps to planned_evaluations() (its estimate; the cap
  without one) before each one and to the count actually run at the end, and stops after max_evaluations
  (FALLBACK_CAP without it) even if the scheduler is not done. Interrupt, Skip and every hook act on each
  evaluation as usual; DenoiseState's next_timestep is known only after the step and is set then, before the
  POST_STEP hooks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from modules.errors import Interrupted
from modules.generation.hooks import DenoiseState, Hook, HookPoint, Hooks, UnetCall

__all__ = ["CondSchedule", "DenoiseState", "Hook", "HookPoint", "Hooks", "SkipBatch", "UnetCall", "denoise",
           "img2img_steps"]

if TYPE_CHECKING:
    import torch

    from modules.generation.conditioning import ComposableConditioning, Conditioning
    from modules.jobs import Progress
    from modules.model_manager.loaded_model import LoadedModel


CondSchedule = Callable[[int, int], tuple["Conditioning | ComposableConditioning", "Conditioning"]]

FALLBACK_CAP = 1000  # evaluations of a self-scheduling sampler that names no max_evaluations

log = logging.getLogger(__name__)


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
             height: int, image_cond: torch.Tensor | None = None,
             unet_kwargs: dict[str, Any] | None = None) -> list[torch.Tensor]:
    """One UNet prediction per conditioning, those with the same token count in one batched call.

    Conditionings of different lengths (a long prompt with a short negative one) run separately,
    as A1111 does by default. image_cond (inpainting checkpoints) is appended to the latents' channels;
    unet_kwargs (from AROUND_UNET hooks, UnetCall.unet_kwargs) go to every UNet call.
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
                             added_cond_kwargs=_added_cond(model, group, width, height), **(unet_kwargs or {})).sample
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
    unet = hooks.wrap_unet(lambda call: _predict(model, call.latents, call.timestep, call.conds, width, height,
                                                 call.image_cond, call.unet_kwargs))
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
    params = _step_params(scheduler)
    step_kwargs: dict[str, Any] = {}
    if generators is not None and "generator" in params:
        step_kwargs["generator"] = generators if len(generators) > 1 else generators[0]
    wants_uncond = "uncond_pred" in params
    points = _Points(scheduler, timesteps)
    if progress is not None:
        progress.total_steps = points.total
        progress.step = 0
    for i, t in points:
        if progress is not None and progress.interrupted:
            raise Interrupted()
        if progress is not None and progress.skipped:
            raise SkipBatch()
        if progress is not None and points.adaptive:
            progress.total_steps = points.total
        total = points.total
        cond, uncond = conditioning(i, total)
        state = DenoiseState(step=i, total_steps=total, timestep=t, latents=latents, cond=cond, uncond=uncond,
                             cfg_scale=cfg_scale, next_timestep=points.following(i))
        hooks.run(HookPoint.PRE_STEP, state)
        parts = _weighted_parts(state.cond)
        guided = wants_uncond or state.cfg_scale != 1.0 or len(parts) != 1 or parts[0][1] != 1.0
        conds = [state.uncond, *(part for part, _ in parts)] if guided else [parts[0][0]]
        model_in = scheduler.scale_model_input(state.latents, t)
        preds = unet(UnetCall(model_in, t, conds, state, image_cond))
        out = preds[0]
        if guided:
            out_uncond = preds[0]
            for pred, (_, weight) in zip(preds[1:], parts, strict=True):
                out = out + (weight * state.cfg_scale) * (pred - out_uncond)
        state.noise_pred = out
        hooks.run(HookPoint.POST_CFG, state)
        extra: dict[str, Any] = {"uncond_pred": preds[0]} if wants_uncond else {}
        if "cfg_scale" in params:
            extra["cfg_scale"] = state.cfg_scale
        state.latents = scheduler.step(state.noise_pred, t, state.latents, **step_kwargs, **extra).prev_sample
        if points.adaptive:
            state.next_timestep = points.peek()
        hooks.run(HookPoint.POST_STEP, state)
        latents = state.latents
        if progress is not None:
            progress.step = i + 1
            progress.publish_latents(latents, model)  # live previews are drawn from these on request
    if progress is not None and points.adaptive:
        progress.total_steps = progress.step = points.done
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


class _Points:
    """The loop's model evaluations: (index, timestep) from scheduler.timesteps laid out in advance, or, for a
    scheduler with next_timestep(), asked of it one at a time (at most max_evaluations)."""

    def __init__(self, scheduler: Any, timesteps: Any) -> None:
        self.scheduler, self.timesteps = scheduler, timesteps
        self.adaptive = callable(getattr(scheduler, "next_timestep", None))
        self.cap = int(getattr(scheduler, "max_evaluations", 0) or FALLBACK_CAP)
        self.done = 0  # evaluations run so far

    @property
    def total(self) -> int:
        """The evaluations this run takes: planned in advance, or the self-scheduling sampler's estimate now."""
        if not self.adaptive:
            return len(self.timesteps)
        if not len(self.timesteps):
            return 0
        plan = getattr(self.scheduler, "planned_evaluations", None)
        return max(self.done + 1, min(self.cap, int(plan()) if callable(plan) else self.cap))

    def following(self, i: int) -> Any:
        """The timestep after evaluation i where it is laid out in advance (None at the last or not yet known)."""
        return self.timesteps[i + 1] if not self.adaptive and i + 1 < len(self.timesteps) else None

    def peek(self) -> Any:
        return self.scheduler.next_timestep()

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        if not self.adaptive:
            yield from enumerate(self.timesteps)
            self.done = len(self.timesteps)
            return
        while len(self.timesteps):  # empty: img2img at strength 0 runs nothing
            t = self.scheduler.next_timestep()
            if t is None:
                return
            if self.done >= self.cap:
                log.warning("%s stopped after %d model evaluations without finishing", type(self.scheduler).__name__,
                            self.done)
                return
            yield self.done, t
            self.done += 1


def _step_params(scheduler: Any) -> set[str]:
    import inspect

    return set(inspect.signature(scheduler.step).parameters)
