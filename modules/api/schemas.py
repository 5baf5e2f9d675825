"""Request and response bodies of the REST API, with A1111's field names, types and defaults.

Hand-written pydantic models (A1111 v1.10.1, see the compatibility reference §9). API defaults differ
from UI defaults on purpose, as in A1111: sampler Euler (sampler_index) and 50 steps.
StableDiffusionProcessingTxt2Img.to_params() turns a request into the backend's Txt2ImgParams (the rest of
the request, in modules/api/generate.py, into a GenerationRequest); the mapping tables below are checked
against Txt2ImgParams by a test, so the two stay in step.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from modules.errors import InvalidParams
from modules.generation.params import GenerationParams, Txt2ImgParams
from modules.messages import msg

MAX_PROMPT_CHARS = 32_768
MAX_STYLES = 64

P = TypeVar("P", bound=GenerationParams)

# request field -> Txt2ImgParams field (sampler_name also falls back to sampler_index)
REQUEST_FIELDS: dict[str, str] = {
    "prompt": "prompt",
    "negative_prompt": "negative_prompt",
    "sampler_name": "sampler_name",
    "scheduler": "scheduler",
    "steps": "steps",
    "cfg_scale": "cfg_scale",
    "seed": "seed",
    "width": "width",
    "height": "height",
    "n_iter": "batch_count",
    "batch_size": "batch_size",
    "subseed": "subseed",
    "subseed_strength": "subseed_strength",
    "seed_resize_from_w": "seed_resize_from_w",
    "seed_resize_from_h": "seed_resize_from_h",
    "tiling": "tiling",
}
# txt2img's hires fix: request field -> Txt2ImgParams field (hr_cfg: Forge's name for the hires CFG scale)
HIRES_FIELDS: dict[str, str] = {
    "enable_hr": "enable_hr",
    "hr_scale": "hr_scale",
    "hr_upscaler": "hr_upscaler",
    "hr_second_pass_steps": "hr_second_pass_steps",
    "hr_resize_x": "hr_resize_x",
    "hr_resize_y": "hr_resize_y",
    "denoising_strength": "denoising_strength",
    "hr_sampler_name": "hr_sampler_name",
    "hr_scheduler": "hr_scheduler",
    "hr_prompt": "hr_prompt",
    "hr_negative_prompt": "hr_negative_prompt",
    "hr_cfg": "hr_cfg_scale",
}

# fields that ask for a feature this version does not have: (field, value that means "not asked for")
UNSUPPORTED_COMMON: tuple[tuple[str, Any], ...] = (
    ("restore_faces", (None, False)), ("refiner_checkpoint", (None, "", "None")),
)
UNSUPPORTED_UNLESS: tuple[tuple[str, Any], ...] = (
    *UNSUPPORTED_COMMON, ("firstpass_image", (None, "")),
    ("hr_checkpoint_name", (None, "", "Use same checkpoint")),
)


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="ignore", protected_namespaces=())


class ProcessingCommon(ApiModel):
    """The fields A1111's txt2img and img2img requests share (StableDiffusionProcessing's signature)."""

    unsupported: ClassVar[tuple[tuple[str, Any], ...]] = UNSUPPORTED_COMMON

    prompt: str = Field(default="", max_length=MAX_PROMPT_CHARS)
    negative_prompt: str = Field(default="", max_length=MAX_PROMPT_CHARS)
    styles: list[str] | None = Field(default=None, max_length=MAX_STYLES)
    seed: int = -1
    subseed: int = -1
    subseed_strength: float = 0
    seed_resize_from_h: int = -1
    seed_resize_from_w: int = -1
    sampler_name: str | None = None
    scheduler: str | None = None
    batch_size: int = 1
    n_iter: int = 1
    steps: int = 50
    cfg_scale: float = 7.0
    width: int = 512
    height: int = 512
    restore_faces: bool | None = None
    tiling: bool | None = None
    do_not_save_samples: bool = False
    do_not_save_grid: bool = False
    eta: float | None = None
    denoising_strength: float | None = 0.75
    s_min_uncond: float | None = None
    s_churn: float | None = None
    s_tmax: float | None = None
    s_tmin: float | None = None
    s_noise: float | None = None
    override_settings: dict[str, Any] | None = None
    override_settings_restore_afterwards: bool = True
    refiner_checkpoint: str | None = None
    refiner_switch_at: float | None = None
    disable_extra_networks: bool = False
    comments: dict[str, Any] | None = None
    force_task_id: str | None = Field(default=None, max_length=64)
    sampler_index: str = "Euler"
    script_name: str | None = Field(default=None, max_length=200, description="a selectable script's title "
                                    "(case-insensitive; GET /sdapi/v1/scripts lists them)")
    script_args: list[Any] = Field(default_factory=list, max_length=1000,
                                   description="its arguments, in order (GET /sdapi/v1/script-info)")
    send_images: bool = True
    save_images: bool = False
    alwayson_scripts: dict[str, Any] = Field(default_factory=dict, description='{"<title>": {"args": [...]}}')
    infotext: str | None = Field(default=None, max_length=MAX_PROMPT_CHARS * 2)

    def check_supported(self) -> None:
        """InvalidParams naming the first field that asks for something this version cannot do."""
        for name, allowed in self.unsupported:
            value = getattr(self, name)
            ok = value in allowed if isinstance(allowed, tuple) else value == allowed
            if not ok:
                raise InvalidParams(msg("api_unsupported", field=name))

    def to_params(self, base: P | None = None) -> P | Txt2ImgParams:
        """Params of base's class (Txt2ImgParams by default) with this request's values, A1111's API defaults
        for the fields it leaves unset (not validated). The infotext, option defaults, override_settings and
        styles are applied by the request rules (modules/generation/resolve.py), as for every front door."""
        values: dict[str, Any] = {target: getattr(self, source) for source, target in REQUEST_FIELDS.items()}
        values.update(sampler_name=self.sampler_name or self.sampler_index, scheduler=self.scheduler or "Automatic",
                      tiling=bool(self.tiling), seed_resize_from_w=max(0, self.seed_resize_from_w),
                      seed_resize_from_h=max(0, self.seed_resize_from_h))  # A1111: -1 (or 0) = off
        return replace(base if base is not None else Txt2ImgParams(), **values)

    def explicit_fields(self) -> frozenset[str]:
        """The params fields this request sets itself (an `infotext` fills the others)."""
        explicit = {REQUEST_FIELDS[f] for f in self.model_fields_set if f in REQUEST_FIELDS}
        if "sampler_index" in self.model_fields_set:
            explicit.add("sampler_name")
        return frozenset(explicit)

    def door_fields(self) -> frozenset[str]:
        """Fields whose API default (Euler, 50 steps, ...) wins over the server's option default when unset,
        as in A1111, where the request always names a sampler (sampler_index defaults to Euler)."""
        return frozenset(REQUEST_FIELDS.values())

    def echo(self) -> dict[str, Any]:
        """The request as the response's "parameters"."""
        return self.model_dump()


class StableDiffusionProcessingTxt2Img(ProcessingCommon):
    unsupported: ClassVar[tuple[tuple[str, Any], ...]] = UNSUPPORTED_UNLESS

    firstpass_image: str | None = None
    enable_hr: bool = False
    firstphase_width: int = 0
    firstphase_height: int = 0
    hr_scale: float = 2.0
    hr_upscaler: str | None = None
    hr_second_pass_steps: int = 0
    hr_resize_x: int = 0
    hr_resize_y: int = 0
    hr_checkpoint_name: str | None = None
    hr_sampler_name: str | None = None
    hr_scheduler: str | None = None
    hr_prompt: str = Field(default="", max_length=MAX_PROMPT_CHARS)
    hr_negative_prompt: str = Field(default="", max_length=MAX_PROMPT_CHARS)
    hr_cfg: float | None = Field(default=None, description="hires CFG scale (Forge's field; unset: cfg_scale)")

    def to_params(self, base: P | None = None) -> P | Txt2ImgParams:
        """The shared fields, then the hires fix's (unset upscaler, sampler, schedule: A1111's defaults)."""
        params = super().to_params(base)
        if not isinstance(params, Txt2ImgParams):
            return params
        values: dict[str, Any] = {target: getattr(self, source) for source, target in HIRES_FIELDS.items()}
        defaults = Txt2ImgParams()
        for name in ("hr_upscaler", "hr_sampler_name", "hr_scheduler", "denoising_strength"):
            if values[name] in (None, ""):
                values[name] = getattr(defaults, name)
        return replace(params, **values)

    def explicit_fields(self) -> frozenset[str]:
        return super().explicit_fields() | {HIRES_FIELDS[f] for f in self.model_fields_set if f in HIRES_FIELDS}

    def door_fields(self) -> frozenset[str]:
        return super().door_fields() | frozenset(HIRES_FIELDS.values())


class TextToImageResponse(ApiModel):
    images: list[str] | None = Field(default=None, description="base64 PNGs; a batch's grid first only with "
                                     "save_images and the return_grid option on (as A1111)")
    parameters: dict[str, Any]
    info: str


class ProgressState(ApiModel):
    skipped: bool = False
    interrupted: bool = False
    stopping_generation: bool = False
    job: str = ""
    job_count: int = 0
    job_timestamp: str = "0"
    job_no: int = 0
    sampling_step: int = 0
    sampling_steps: int = 0
    id_task: str | None = None
    status: str = "idle"
    queue_position: int = 0


class ProgressResponse(ApiModel):
    progress: float = Field(title="Progress", description="0..1")
    eta_relative: float = Field(title="ETA in secs")
    state: ProgressState
    current_image: str | None = Field(default=None, description="base64 preview of the running image")
    textinfo: str | None = None


class PNGInfoRequest(ApiModel):
    image: str = Field(description="base64 image (a data: URI is accepted)")


class PNGInfoResponse(ApiModel):
    info: str
    items: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)


class SamplerItem(ApiModel):
    name: str
    aliases: list[str]
    options: dict[str, str]


class SchedulerItem(ApiModel):
    name: str
    label: str
    aliases: list[str] | None = None
    default_rho: float | None = -1
    need_inner_model: bool | None = False


class UpscalerItem(ApiModel):
    name: str
    model_name: str | None = None
    model_path: str | None = None
    model_url: str | None = None
    scale: float | None = None


class SDModelItem(ApiModel):
    title: str
    model_name: str
    hash: str | None = None
    sha256: str | None = None
    filename: str
    config: str | None = None


class SDVaeItem(ApiModel):
    model_name: str
    filename: str


class LoraItem(ApiModel):
    name: str
    alias: str
    path: str
    metadata: dict[str, Any] = Field(default_factory=dict)


class HypernetworkItem(ApiModel):
    name: str
    path: str | None = None


class PromptStyleItem(ApiModel):
    name: str
    prompt: str | None = None
    negative_prompt: str | None = None


class EmbeddingItem(ApiModel):
    step: int | None = None
    sd_checkpoint: str | None = None
    sd_checkpoint_name: str | None = None
    shape: int | None = None
    vectors: int | None = None


class EmbeddingsResponse(ApiModel):
    loaded: dict[str, EmbeddingItem] = Field(default_factory=dict)
    skipped: dict[str, EmbeddingItem] = Field(default_factory=dict)


class MemoryResponse(ApiModel):
    ram: dict[str, Any]
    cuda: dict[str, Any]
