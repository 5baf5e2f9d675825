"""The hires fix: txt2img's second pass, one more DENOISE + DECODE on the upscaled first pass.

After the first pass at width x height, each batch's latents are upscaled to hires_size(params):
- a latent mode (LATENT_MODES: "Latent", "Latent (bicubic antialiased)", ...) resizes the latents;
- any other name is an upscaler of app.registry.upscalers ("Lanczos", "Nearest", "None", models): the
  first pass is decoded, upscaled, resized to the target and VAE-encoded again.
The result enters THE denoising loop (denoise.py) as img2img does, at denoising_strength, and as in
A1111 exactly the hires steps run (the schedule is stretched to steps / strength), from new noise of the same seeds (and variation seeds) at the hires
size, with the hires sampler, schedule type, CFG scale and its own conditioning: the hires prompts
(the first pass's when empty) scheduled by A1111's second-pass rule ([a:b:N] counts steps from the
start of the first pass; fractions are offset by 1, so [a:b:0.5] has switched for the whole pass).

The infotext's "Size" stays the first pass's (A1111); the hires keys come in A1111's order. Progress
counts the steps of both passes. Interrupt during the hires pass keeps the batch's finished first
pass (saved at the first-pass size, its infotext without the hires keys, so it reproduces that image).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams
from modules.generation.params import SAME_SAMPLER, SAME_SCHEDULER, Txt2ImgParams
from modules.messages import msg

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from modules.app import App
    from modules.generation.denoise import CondSchedule, Hooks
    from modules.jobs import Progress
    from modules.model_manager.loaded_model import LoadedModel
    from modules.registry import Registry
    from modules.samplers.specs import SamplerTable

# A1111's latent upscale modes: name -> (torch interpolation mode, antialias)
LATENT_MODES: dict[str, tuple[str, bool]] = {
    "Latent": ("bilinear", False),
    "Latent (antialiased)": ("bilinear", True),
    "Latent (bicubic)": ("bicubic", False),
    "Latent (bicubic antialiased)": ("bicubic", True),
    "Latent (nearest)": ("nearest", False),
    "Latent (nearest-exact)": ("nearest-exact", False),
}
MAX_SCHEDULE_STEPS = 1000  # diffusers' schedulers take at most their training timesteps
HIRES_KEYS = ("Denoising strength", "Hires sampler", "Hires prompt", "Hires negative prompt", "Hires schedule type",
              "Hires upscale", "Hires resize", "Hires steps", "Hires upscaler", "Hires CFG Scale")


def _multiple_of_8(value: int) -> int:
    return value // 8 * 8


def cover_size(params: Txt2ImgParams) -> tuple[int, int]:
    """The size the first pass is upscaled to: by hr_scale, or to hr_resize_x x hr_resize_y (one 0 keeps the
    aspect; both set: the smallest size that covers them at the first pass's aspect, cropped afterwards)."""
    w, h, rx, ry = params.width, params.height, params.hr_resize_x, params.hr_resize_y
    if rx == 0 and ry == 0:
        size = (int(w * params.hr_scale), int(h * params.hr_scale))
    elif ry == 0 or (rx and w * ry < h * rx):  # a width only, or the first pass is narrower than the target
        size = (rx, rx * h // w)
    else:
        size = (ry * w // h, ry)
    return _multiple_of_8(size[0]), _multiple_of_8(size[1])


def hires_size(params: Txt2ImgParams) -> tuple[int, int]:
    """(width, height) of the saved image: the cover size, cropped to hr_resize_x x hr_resize_y when both are set."""
    cw, ch = cover_size(params)
    if params.hr_resize_x and params.hr_resize_y:
        return min(cw, _multiple_of_8(params.hr_resize_x)), min(ch, _multiple_of_8(params.hr_resize_y))
    return cw, ch


def upscaler_choices(registry: Registry) -> list[str]:
    """The hires upscaler dropdown: the latent modes, then every registered upscaler."""
    return [*LATENT_MODES, *registry.upscalers.names()]


def find_hires_upscaler(registry: Registry, name: str) -> str:
    """The canonical name of a latent mode or registered upscaler (any case); InvalidParams listing them."""
    for mode in LATENT_MODES:
        if mode.casefold() == str(name).strip().casefold():
            return mode
    entries = {n.casefold(): n for n in registry.upscalers.names()}
    found = entries.get(str(name).strip().casefold())
    if found is None:
        raise InvalidParams(msg("unknown_hr_upscaler", name=str(name)[:200],
                                choices=", ".join(upscaler_choices(registry))))
    return found


def hires_infotext(params: Txt2ImgParams) -> dict[str, object]:
    """The hires fix's infotext keys in A1111's order (none when it is off); Hires CFG Scale (Forge's key) last."""
    if not params.enable_hr:
        return {}
    values: dict[str, object] = {"Denoising strength": params.denoising_strength}
    if params.hr_sampler_name != SAME_SAMPLER:
        values["Hires sampler"] = params.hr_sampler_name
    if params.hr_prompt and params.hr_prompt != params.prompt:
        values["Hires prompt"] = params.hr_prompt
    if params.hr_negative_prompt and params.hr_negative_prompt != params.negative_prompt:
        values["Hires negative prompt"] = params.hr_negative_prompt
    if params.hr_scheduler != SAME_SCHEDULER:
        values["Hires schedule type"] = params.hr_scheduler
    if params.hr_resize_x == 0 and params.hr_resize_y == 0:
        values["Hires upscale"] = params.hr_scale
    else:
        values["Hires resize"] = f"{params.hr_resize_x}x{params.hr_resize_y}"
    if params.hr_second_pass_steps:
        values["Hires steps"] = params.hr_second_pass_steps
    values["Hires upscaler"] = params.hr_upscaler
    if params.hr_cfg_scale is not None and params.hr_cfg_scale != params.cfg_scale:
        values["Hires CFG Scale"] = params.hr_cfg_scale
    return values


def second_pass_params(params: Txt2ImgParams, samplers: SamplerTable, training: dict[str, Any]) -> Txt2ImgParams:
    """The second pass's own params: its size, steps, sampler, schedule type (Automatic resolved), CFG, prompts."""
    from modules.prompt_parser import strip_comments
    from modules.samplers.noise_schedule import automatic_schedule

    sampler = params.sampler_name
    if params.hr_sampler_name != SAME_SAMPLER:
        sampler = samplers.find_sampler(params.hr_sampler_name).name
    schedule = params.scheduler if params.hr_scheduler == SAME_SCHEDULER else \
        samplers.find_schedule(params.hr_scheduler).label
    width, height = hires_size(params)
    return replace(params, width=width, height=height, steps=params.hr_second_pass_steps or params.steps,
                   sampler_name=sampler, scheduler=automatic_schedule(sampler, schedule, training, samplers),
                   cfg_scale=params.cfg_scale if params.hr_cfg_scale is None else params.hr_cfg_scale,
                   prompt=strip_comments(params.hr_prompt) or params.prompt,
                   negative_prompt=strip_comments(params.hr_negative_prompt) or params.negative_prompt)


def hires_schedule(steps: int, strength: float) -> tuple[int, float]:
    """(steps the sampler's schedule is built for, strength denoise() enters it at) so that exactly `steps` run
    (A1111: the schedule is stretched to steps / strength and entered at the strength; here at most
    MAX_SCHEDULE_STEPS long, which diffusers' schedulers need). Strength 0 runs none."""
    if strength <= 0:
        return steps, 0.0
    total = min(MAX_SCHEDULE_STEPS, max(steps, int(steps / min(strength, 0.999))))
    return total, (steps - 0.5) / total  # img2img_steps(total, that) == steps


class PassProgress:
    """A job's Progress as one pass of several sees it: the steps of the passes before (offset) and the
    planned steps of those after (rest) are added, so the bar and the step count cover the whole image."""

    def __init__(self, inner: Progress, offset: int = 0, rest: int = 0) -> None:
        self.inner, self.offset, self.rest = inner, offset, rest
        self.pass_total = 0  # the steps this pass runs (set by the loop)

    @property
    def interrupted(self) -> bool:
        return self.inner.interrupted

    @property
    def skipped(self) -> bool:
        return self.inner.skipped

    @property
    def total_steps(self) -> int:
        return self.pass_total

    @total_steps.setter
    def total_steps(self, value: int) -> None:
        self.pass_total = value
        self.inner.total_steps = self.offset + value + self.rest

    @property
    def step(self) -> int:
        return self.inner.step - self.offset

    @step.setter
    def step(self, value: int) -> None:
        self.inner.step = self.offset + value

    def publish_latents(self, latents: Any, model: Any) -> None:
        self.inner.publish_latents(latents, model)


def _centre_crop_latents(latents: torch.Tensor, height: int, width: int) -> torch.Tensor:
    top, left = (latents.shape[-2] - height) // 2, (latents.shape[-1] - width) // 2
    return latents[..., top:top + height, left:left + width]


def upscale_latents(latents: torch.Tensor, mode: str, cover: tuple[int, int], size: tuple[int, int],
                    factor: int) -> torch.Tensor:
    """Latents resized to cover (pixels; factor: the VAE's scale factor) with a latent mode, cropped to size."""
    import torch

    interpolation, antialias = LATENT_MODES[mode]
    out = torch.nn.functional.interpolate(latents.float(), size=(cover[1] // factor, cover[0] // factor),
                                          mode=interpolation, antialias=antialias)
    return _centre_crop_latents(out, size[1] // factor, size[0] // factor).to(latents.dtype)


def upscale_image(registry: Registry, name: str, image: Image.Image, cover: tuple[int, int],
                  size: tuple[int, int]) -> Image.Image:
    """image upscaled with a registered upscaler to cover (Lanczos makes up a small difference), cropped to size."""
    from PIL import Image

    from modules.upscalers.spec import find_upscaler

    factor = max(cover[0] / image.width, cover[1] / image.height)
    upscaled = find_upscaler(registry, name).upscale(image, factor) if factor > 1 else image
    if upscaled.size != cover:
        upscaled = upscaled.resize(cover, resample=Image.Resampling.LANCZOS)
    left, top = (cover[0] - size[0]) // 2, (cover[1] - size[1]) // 2
    return upscaled.crop((left, top, left + size[0], top + size[1])) if cover != size else upscaled


@dataclass
class HiresFix:
    """The second pass of one generation: its params (hr), conditioning and how a batch's latents get there."""

    app: App
    model: LoadedModel
    params: Txt2ImgParams  # the first pass's (seed and variation seed resolved)
    hr: Txt2ImgParams  # second_pass_params(params)
    upscaler: str  # canonical: a LATENT_MODES key or a registered upscaler
    training: dict[str, Any]  # the scheduler config the first pass samples with
    samplers: SamplerTable
    conditioning: CondSchedule | None = None

    @classmethod
    def for_run(cls, app: App, model: LoadedModel, params: Txt2ImgParams, samplers: SamplerTable,
                training: dict[str, Any]) -> HiresFix:
        upscaler = find_hires_upscaler(app.registry, params.hr_upscaler)
        params = replace(params, hr_upscaler=upscaler)
        return cls(app, model, params, second_pass_params(params, samplers, training), upscaler, training, samplers)

    def plan(self) -> Any:
        """The second pass's PromptPlan (A1111's second-pass schedule rule)."""
        from modules.generation.prompt_conditioning import plan_prompts

        return plan_prompts(self.hr.prompt, self.hr.negative_prompt, self.params.steps, comments=False,
                            hires_steps=self.hr.steps)

    def planned_steps(self) -> int:
        return self.hr.steps if self.params.denoising_strength > 0 else 0

    def start_latents(self, latents: torch.Tensor, decode: Callable[[torch.Tensor], list[Image.Image]]) -> torch.Tensor:
        """The first pass's latents brought to the hires size (decode: latents → images, for pixel upscalers)."""
        from modules.generation.latents import encode_images

        cover, size = cover_size(self.params), (self.hr.width, self.hr.height)
        if self.upscaler in LATENT_MODES:
            return upscale_latents(latents, self.upscaler, cover, size, self.model.vae_scale_factor)
        images = [upscale_image(self.app.registry, self.upscaler, image, cover, size) for image in decode(latents)]
        return encode_images(self.model, images)

    def denoise(self, latents: torch.Tensor, seeds: list[int], first_index: int, progress: PassProgress,
                hooks: Hooks) -> tuple[torch.Tensor, Callable[[Any], None]]:
        """(the start noise, the DENOISE pass's work) for upscaled latents: denoised at denoising_strength."""
        from modules.generation.denoise import denoise
        from modules.generation.image_conditioning import needs_image_conditioning, txt2img_conditioning
        from modules.generation.latents import cpu_generators
        from modules.generation.variation_noise import variation_noise
        from modules.samplers.registry import build_scheduler

        hr = self.hr
        generators = cpu_generators(seeds)
        noise = variation_noise(self.model, self.params, seeds, first_index, hr.width, hr.height, generators)
        training = dict(self.training, noise_sampler_seed=seeds[0], model_arch=self.model.arch)
        scheduler = build_scheduler(hr.sampler_name, hr.scheduler, training, self.samplers)
        image_cond = None
        if needs_image_conditioning(self.model):
            image_cond = txt2img_conditioning(self.model, 1, hr.width, hr.height).repeat(len(seeds), 1, 1, 1)
        conditioning = self.conditioning
        total, strength = hires_schedule(hr.steps, self.params.denoising_strength)

        def work(state: Any) -> None:
            state.latents = denoise(self.model, scheduler, state.latents, conditioning, hr.cfg_scale,  # type: ignore[arg-type]
                                    total, hr.width, hr.height, generators, progress, hooks,  # type: ignore[arg-type]
                                    init=latents, strength=strength, image_cond=image_cond)

        return noise, work


def without_hires_keys(extra: dict[str, object]) -> dict[str, object]:
    """Infotext keys for an image the hires pass did not finish (its first pass)."""
    return {key: value for key, value in extra.items() if key not in HIRES_KEYS}
