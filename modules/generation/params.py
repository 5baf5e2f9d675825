"""What the user asked for: one frozen dataclass per task, validated before any work starts.

GenerationParams holds what every task shares (prompt, sampler, seed, size, batch, ...);
Txt2ImgParams adds nothing to it, Img2ImgParams adds the init images, denoising strength and mask.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from modules.errors import InvalidParams
from modules.messages import msg

if TYPE_CHECKING:
    from PIL import Image

    from modules.samplers.specs import SamplerTable

MAX_SEED = 2**32 - 1
MAX_PROMPT_CHARS = 32_768  # per prompt; far beyond any useful prompt, short of a memory problem
RESIZE_MODES = ("Just resize", "Crop and resize", "Resize and fill", "Just resize (latent upscale)")
MASKED_CONTENT = ("fill", "original", "latent noise", "latent nothing")
MAX_MASK_BLUR = 64
MAX_PADDING = 256
MAX_NOISE_MULTIPLIER = 1.5
MAX_HIRES_SIDE = 4096  # pixels a side the hires fix may draw at
SAME_SAMPLER, SAME_SCHEDULER = "Use same sampler", "Use same scheduler"  # A1111's hires choices

P = TypeVar("P", bound="GenerationParams")


@dataclass(frozen=True)
class GenerationParams:
    prompt: str = ""
    negative_prompt: str = ""
    sampler_name: str = "DPM++ 2M"
    scheduler: str = "Automatic"
    steps: int = 20
    cfg_scale: float = 7.0
    seed: int = -1
    width: int = 512
    height: int = 512
    batch_count: int = 1
    batch_size: int = 1
    clip_skip: int = 1
    emphasis: str = "Original"  # how prompt weights act: Original, No norm, Ignore, None (A1111's setting)
    # variation seeds (A1111's "Extra"): the noise of seed slerped toward subseed's by subseed_strength;
    # seed_resize_from_w/h > 0: the noise is drawn at that size and placed in the centre (0: off)
    subseed: int = -1
    subseed_strength: float = 0.0
    seed_resize_from_w: int = 0
    seed_resize_from_h: int = 0
    tiling: bool = False  # seamless textures: the UNet's and VAE's convolutions wrap around

    def checks(self) -> list[tuple[bool, str]]:
        """(ok, message) per rule, in the order they are reported; subclasses add theirs."""
        from modules.generation.prompt_chunks import EMPHASIS_MODES

        return [
            (len(self.prompt) <= MAX_PROMPT_CHARS, msg("prompt_too_long", field="prompt", count=len(self.prompt),
                                                        maximum=MAX_PROMPT_CHARS)),
            (len(self.negative_prompt) <= MAX_PROMPT_CHARS,
             msg("prompt_too_long", field="negative prompt", count=len(self.negative_prompt), maximum=MAX_PROMPT_CHARS)),
            (1 <= self.steps <= 150, msg("bad_steps", value=self.steps)),
            (0.0 <= self.cfg_scale <= 30.0, msg("bad_cfg", value=self.cfg_scale)),
            (-1 <= self.seed <= MAX_SEED, msg("bad_seed", value=self.seed)),
            *self.size_checks(),
            (1 <= self.batch_count <= 100, msg("bad_batch_count", value=self.batch_count)),
            (1 <= self.batch_size <= 8, msg("bad_batch_size", value=self.batch_size)),
            (1 <= self.clip_skip <= 12, msg("bad_clip_skip", value=self.clip_skip)),
            (self.emphasis in EMPHASIS_MODES, msg("bad_emphasis", value=self.emphasis,
                                                  choices=", ".join(EMPHASIS_MODES))),
            *self._prompt_checks(),
            *self.variation_checks(),
        ]

    def variation_checks(self) -> list[tuple[bool, str]]:
        """Variation seed, strength and "resize seed from" (0 = off)."""
        return [
            (-1 <= self.subseed <= MAX_SEED, msg("bad_subseed", value=self.subseed)),
            (0.0 <= self.subseed_strength <= 1.0, msg("bad_subseed_strength", value=self.subseed_strength)),
            *((value == 0 or 8 <= value <= 2048, msg("bad_seed_resize", field=name, value=value))
              for name, value in (("width", self.seed_resize_from_w), ("height", self.seed_resize_from_h))),
        ]

    def size_checks(self) -> list[tuple[bool, str]]:
        return [(64 <= self.width <= 2048 and self.width % 8 == 0, msg("bad_size", field="width", value=self.width)),
                (64 <= self.height <= 2048 and self.height % 8 == 0, msg("bad_size", field="height", value=self.height))]

    def _prompt_checks(self) -> list[tuple[bool, str]]:
        """Chunks, nesting, edits, AND parts and weights of both prompts (modules/prompt_limits.py), once
        their length and the steps are in range; a prompt over a limit would hold the queue for minutes."""
        from modules.prompt_limits import prompt_problem

        if not 1 <= self.steps <= 150:
            return []
        checks = []
        for field, text, negative in (("prompt", self.prompt, False), ("negative prompt", self.negative_prompt, True)):
            if len(text) <= MAX_PROMPT_CHARS:
                problem = prompt_problem(text, field, self.steps, self.emphasis, negative=negative)
                checks.append((problem is None, problem or ""))
        return checks

    def validate(self, samplers: SamplerTable | None = None) -> None:
        """Raise InvalidParams naming the first field that is out of range, or a sampler or schedule type
        that samplers (an App's: sampler_table(app.registry); default: the core set) does not hold."""
        from modules.samplers.core import CORE_TABLE

        self.validate_ranges()
        table = samplers or CORE_TABLE
        table.find_sampler(self.sampler_name)
        table.find_schedule(self.scheduler)

    def validate_ranges(self) -> None:
        """Raise InvalidParams naming the first field that is out of range (sampler names not looked up)."""
        for ok, text in self.checks():
            if not ok:
                raise InvalidParams(text)

    def validate_size(self) -> None:
        """Raise InvalidParams when width or height is out of range (the rest was checked before)."""
        for ok, text in self.size_checks():
            if not ok:
                raise InvalidParams(text)

    def with_seed(self: P, seed: int) -> P:
        return replace(self, seed=seed)


@dataclass(frozen=True)
class Txt2ImgParams(GenerationParams):
    """txt2img adds the hires fix (A1111's names and defaults): after the first pass at width x height the
    images are upscaled (by hr_scale, or to hr_resize_x x hr_resize_y; one 0 keeps the aspect) with
    hr_upscaler and denoised again at denoising_strength for hr_second_pass_steps (0: steps)."""

    enable_hr: bool = False
    hr_scale: float = 2.0
    hr_upscaler: str = "Latent"
    hr_second_pass_steps: int = 0
    hr_resize_x: int = 0
    hr_resize_y: int = 0
    denoising_strength: float = 0.7
    hr_sampler_name: str = "Use same sampler"
    hr_scheduler: str = "Use same scheduler"
    hr_prompt: str = ""  # "" = the first pass's prompt
    hr_negative_prompt: str = ""
    hr_cfg_scale: float | None = None  # None = the first pass's CFG scale

    def checks(self) -> list[tuple[bool, str]]:
        if not self.enable_hr:
            return super().checks()
        cfg = self.hr_cfg_scale
        resize = (("width", self.hr_resize_x), ("height", self.hr_resize_y))
        checks = [
            *super().checks(),
            (0.0 <= self.denoising_strength <= 1.0, msg("bad_denoising", value=self.denoising_strength)),
            (1.0 <= self.hr_scale <= 4.0, msg("bad_hr_scale", value=self.hr_scale)),
            *((value == 0 or 64 <= value <= MAX_HIRES_SIDE,
               msg("bad_hr_resize", field=name, value=value, maximum=MAX_HIRES_SIDE)) for name, value in resize),
            (0 <= self.hr_second_pass_steps <= 150, msg("bad_hr_steps", value=self.hr_second_pass_steps)),
            (cfg is None or 0.0 <= cfg <= 30.0, msg("bad_hr_cfg", value=cfg)),
            *self._hires_prompt_checks(),
        ]
        if all(ok for ok, _ in checks):
            from modules.generation.hires import cover_size, hires_size

            width, height = hires_size(self)
            checks.append((64 <= min(width, height) and max(width, height) <= MAX_HIRES_SIDE,
                           msg("bad_hr_size", width=width, height=height, maximum=MAX_HIRES_SIDE)))
            # both resize sizes set: the first pass is upscaled to cover them, then cropped; that size counts too
            width, height = cover_size(self)
            checks.append((max(width, height) <= MAX_HIRES_SIDE,
                           msg("bad_hr_size", width=width, height=height, maximum=MAX_HIRES_SIDE)))
        return checks

    def _hires_prompt_checks(self) -> list[tuple[bool, str]]:
        """The hires prompts' length and limits (modules/prompt_limits.py), as the prompts' own."""
        from modules.prompt_limits import prompt_problem

        checks = []
        steps = self.hr_second_pass_steps or self.steps
        for field, text, negative in (("hires prompt", self.hr_prompt, False),
                                      ("hires negative prompt", self.hr_negative_prompt, True)):
            if len(text) > MAX_PROMPT_CHARS:
                checks.append((False, msg("prompt_too_long", field=field, count=len(text), maximum=MAX_PROMPT_CHARS)))
            elif text and 1 <= steps <= 150:
                problem = prompt_problem(text, field, steps, self.emphasis, negative=negative)
                checks.append((problem is None, problem or ""))
        return checks

    def validate(self, samplers: SamplerTable | None = None) -> None:
        """GenerationParams.validate, plus the hires sampler and schedule type when the hires fix is on."""
        from modules.samplers.core import CORE_TABLE

        super().validate(samplers)
        table = samplers or CORE_TABLE
        if self.enable_hr and self.hr_sampler_name != SAME_SAMPLER:
            table.find_sampler(self.hr_sampler_name)
        if self.enable_hr and self.hr_scheduler != SAME_SCHEDULER:
            table.find_schedule(self.hr_scheduler)


@dataclass(frozen=True)
class Img2ImgParams(GenerationParams):
    """img2img and inpainting (A1111's StableDiffusionProcessingImg2Img, UI defaults).

    Image i of a batch starts from init_images[i % len(init_images)]. mask: white = repaint
    (A1111); any size, it is resized to the init image. resize_mode 3 ("Just resize (latent upscale)") encodes at the image's own size and resizes the latents.
    inpainting_fill: 0 fill, 1 original, 2 latent noise, 3 latent nothing. inpaint_full_res: "Only
    masked" (the masked area plus padding is generated at width x height and pasted back).
    """

    init_images: tuple[Image.Image, ...] = ()
    denoising_strength: float = 0.75
    resize_mode: int = 0
    mask: Image.Image | None = None
    mask_blur_x: int = 4
    mask_blur_y: int = 4
    mask_round: bool = True
    inpainting_fill: int = 1
    inpaint_full_res: bool = False
    inpaint_full_res_padding: int = 32
    inpainting_mask_invert: bool = False
    initial_noise_multiplier: float = 1.0

    def checks(self) -> list[tuple[bool, str]]:
        blur = (self.mask_blur_x, self.mask_blur_y)
        return [
            (len(self.init_images) > 0, msg("no_init_image")),
            *super().checks(),
            (0.0 <= self.denoising_strength <= 1.0, msg("bad_denoising", value=self.denoising_strength)),
            (self.resize_mode in range(len(RESIZE_MODES)), msg("bad_resize_mode", value=self.resize_mode)),
            (all(0 <= b <= MAX_MASK_BLUR for b in blur), msg("bad_mask_blur", value=max(blur, key=abs),
                                                                maximum=MAX_MASK_BLUR)),
            (self.inpainting_fill in range(len(MASKED_CONTENT)), msg("bad_inpainting_fill", value=self.inpainting_fill)),
            (0 <= self.inpaint_full_res_padding <= MAX_PADDING,
             msg("bad_padding", value=self.inpaint_full_res_padding, maximum=MAX_PADDING)),
            (0.0 <= self.initial_noise_multiplier <= MAX_NOISE_MULTIPLIER,
             msg("bad_noise_multiplier", value=self.initial_noise_multiplier, maximum=MAX_NOISE_MULTIPLIER)),
        ]
