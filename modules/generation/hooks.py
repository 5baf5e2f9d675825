"""Hook points of a generation, and Hooks: the hooks one request carries (data, never module-level state).

A generation runs as passes (modules/generation/passes.py): ENCODE_PROMPT once, then per batch DENOISE and
DECODE (the hires fix adds one more ENCODE_PROMPT, DENOISE and DECODE). The hook points, in the order they fire:

    BEFORE_PASS  fn(PassState)    before each pass: may read/change its inputs (state.latents before DENOISE)
      PRE_STEP   fn(DenoiseState) before each UNet call of the loop: may change latents or conditioning
      AROUND_UNET fn(UnetCall, call_next) -> predictions: wraps the model call (guidance tweaks, extra
                 UNet inputs such as ControlNet residuals through UnetCall.unet_kwargs, or a replacement)
      POST_CFG   fn(DenoiseState) after guidance is combined: may change noise_pred
      POST_STEP  fn(DenoiseState) after the scheduler step: may read or change latents
    AFTER_PASS   fn(PassState)    after each pass: may read/change its outputs (latents; images one for one:
                                   same number and order, since each belongs to its seed)
    ON_IMAGE     fn(ImageState)   each finished image before it is saved: may add infotext keys (state.extra)
    IMAGE_SAVED  fn(ImageState)   after it is written (state.path; None when the image is not saved)

Hooks at one point run in the order they were added; Hooks.merged(other) puts other's after this one's.
An AROUND_UNET hook added first is the outermost wrapper.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    import torch
    from PIL import Image

    from modules.generation.conditioning import ComposableConditioning, Conditioning
    from modules.generation.params import GenerationParams


class HookPoint(Enum):
    BEFORE_PASS = "before_pass"
    PRE_STEP = "pre_step"
    AROUND_UNET = "around_unet"
    POST_CFG = "post_cfg"
    POST_STEP = "post_step"
    AFTER_PASS = "after_pass"
    ON_IMAGE = "on_image"
    IMAGE_SAVED = "image_saved"


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


@dataclass
class UnetCall:
    """One model evaluation of a step: a prediction per conditioning in conds (uncond first when guided)."""

    latents: torch.Tensor  # the scheduler-scaled model input (without an inpainting model's extra channels)
    timestep: Any
    conds: list[Conditioning]
    state: DenoiseState  # the step it belongs to (read-only here)
    image_cond: torch.Tensor | None = None
    unet_kwargs: dict[str, Any] = field(default_factory=dict)  # extra keyword arguments for the UNet call


@dataclass
class PassState:
    """One pass of the generation. name: one of passes.PASSES; batch: the batch index (-1 for ENCODE_PROMPT)."""

    name: str
    params: GenerationParams
    batch: int = -1
    seeds: list[int] = field(default_factory=list)
    conditioning: Any = None  # ENCODE_PROMPT's output: the CondSchedule (step, total) -> (cond, uncond)
    latents: torch.Tensor | None = None  # DENOISE's start noise before, its result after; DECODE's input
    images: list[Image.Image] = field(default_factory=list)  # DECODE's output (after AFTER_PASS: what is kept)


@dataclass
class ImageState:
    """One finished image. extra: infotext keys an ON_IMAGE hook adds (written after the core keys)."""

    image: Image.Image
    params: GenerationParams
    seed: int
    index: int  # over the whole generation
    extra: dict[str, object] = field(default_factory=dict)
    infotext: str = ""  # set for IMAGE_SAVED
    path: Path | None = None  # set for IMAGE_SAVED when the image was saved


Hook = Callable[[Any], Any]
UnetFn = Callable[[UnetCall], "list[torch.Tensor]"]
AroundUnet = Callable[[UnetCall, UnetFn], "list[torch.Tensor]"]


@dataclass
class Hooks:
    by_point: dict[HookPoint, list[Hook]] = field(default_factory=dict)

    def add(self, point: HookPoint, hook: Hook) -> Hooks:
        if not isinstance(point, HookPoint):
            raise TypeError(f"not a HookPoint: {point!r}")
        if not callable(hook):
            raise TypeError(f"a hook must be callable (got {type(hook).__name__})")
        self.by_point.setdefault(point, []).append(hook)
        return self

    def run(self, point: HookPoint, state: Any) -> None:
        for hook in self.by_point.get(point, []):
            hook(state)

    def wrap_unet(self, call: UnetFn) -> UnetFn:
        """call wrapped by the AROUND_UNET hooks (the first added outermost)."""
        wrapped = call
        for hook in reversed(self.by_point.get(HookPoint.AROUND_UNET, [])):
            wrapped = _wrapped(hook, wrapped)
        return wrapped

    def merged(self, other: Hooks | None) -> Hooks:
        """A new Hooks with this one's hooks first, then other's, at each point."""
        joined = Hooks({point: list(hooks) for point, hooks in self.by_point.items()})
        for point, hooks in (other.by_point if other else {}).items():
            joined.by_point.setdefault(point, []).extend(hooks)
        return joined

    def __bool__(self) -> bool:
        return any(self.by_point.values())


def _wrapped(hook: AroundUnet, inner: UnetFn) -> UnetFn:
    def call(unet_call: UnetCall) -> list[torch.Tensor]:
        return hook(unet_call, inner)

    return call
