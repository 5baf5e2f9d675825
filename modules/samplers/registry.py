"""A1111 sampler and schedule-type names mapped to diffusers scheduler configurations.

Pure tables and lookups; building the scheduler object happens in build_scheduler (diffusers is
imported only there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modules.errors import InvalidParams
from modules.messages import msg
from modules.samplers.noise_schedule import sampling_betas


@dataclass(frozen=True)
class ScheduleSpec:
    label: str  # shown in the UI and written to infotext ("Karras")
    name: str  # API name ("karras")
    aliases: tuple[str, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)  # diffusers config overrides
    default_rho: float = -1  # the rho of its sigma formula, as the API lists it (-1: none)


@dataclass(frozen=True)
class SamplerSpec:
    name: str  # A1111 UI name ("DPM++ 2M")
    scheduler_class: str  # diffusers class name
    aliases: tuple[str, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)
    default_schedule: str | None = None  # label used for "Automatic", None = model's own sigmas
    schedulable: bool = True  # whether Karras/Exponential sigma schedules apply
    stochastic: bool = False  # draws fresh noise each step (needs per-image generators)


SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec("Automatic", "automatic"),
    ScheduleSpec("Uniform", "uniform", config={"timestep_spacing": "linspace"}),
    ScheduleSpec("Karras", "karras", config={"use_karras_sigmas": True}, default_rho=7.0),
    ScheduleSpec("Exponential", "exponential", config={"use_exponential_sigmas": True}),
    ScheduleSpec("SGM Uniform", "sgm_uniform", aliases=("SGMUniform",), config={"timestep_spacing": "trailing"}),
)

SAMPLERS: tuple[SamplerSpec, ...] = (
    SamplerSpec("DPM++ 2M", "DPMSolverMultistepScheduler", ("k_dpmpp_2m",),
                {"algorithm_type": "dpmsolver++", "solver_order": 2}, "Karras"),
    SamplerSpec("DPM++ SDE", "DPMSolverSDEScheduler", ("k_dpmpp_sde",), {}, "Karras", stochastic=True),
    SamplerSpec("DPM++ 2M SDE", "DPMSolverMultistepScheduler", ("k_dpmpp_2m_sde",),
                {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}, "Exponential", stochastic=True),
    # lower_order_final: diffusers switches to it anyway for a final sigma of 0, with a warning every time
    SamplerSpec("DPM++ 2S a", "DPMSolverSinglestepScheduler", ("k_dpmpp_2s_a",),
                {"algorithm_type": "dpmsolver++", "solver_order": 2, "lower_order_final": True}, "Karras"),
    SamplerSpec("DPM++ 3M SDE", "DPMSolverMultistepScheduler", ("k_dpmpp_3m_sde",),
                {"algorithm_type": "sde-dpmsolver++", "solver_order": 3}, "Exponential", stochastic=True),
    SamplerSpec("Euler a", "EulerAncestralDiscreteScheduler", ("k_euler_a", "k_euler_ancestral"),
                {"timestep_spacing": "linspace"}, None, stochastic=True),
    SamplerSpec("Euler", "EulerDiscreteScheduler", ("k_euler",), {"timestep_spacing": "linspace"}),
    SamplerSpec("LMS", "LMSDiscreteScheduler", ("k_lms",), {"timestep_spacing": "linspace"}),
    SamplerSpec("Heun", "HeunDiscreteScheduler", ("k_heun",), {"timestep_spacing": "linspace"}),
    SamplerSpec("DPM2", "KDPM2DiscreteScheduler", ("k_dpm_2",), {"timestep_spacing": "linspace"}, "Karras"),
    SamplerSpec("DPM2 a", "KDPM2AncestralDiscreteScheduler", ("k_dpm_2_a",),
                {"timestep_spacing": "linspace"}, "Karras", stochastic=True),
    # SD's own DDIM settings (A1111's timesteps 951, 901, ..., 1 at 20 steps); diffusers' default
    # clip_sample=True would clip the predicted latents to [-1, 1] and wash every image out
    SamplerSpec("DDIM", "DDIMScheduler", ("ddim",), {"timestep_spacing": "leading", "steps_offset": 1,
                                                     "set_alpha_to_one": False, "clip_sample": False},
                schedulable=False),
    SamplerSpec("UniPC", "UniPCMultistepScheduler", ("unipc",), {}),
    SamplerSpec("LCM", "LCMScheduler", ("k_lcm",), {}, schedulable=False),
)

# keys of the training schedule that every scheduler accepts
_TRAINING_KEYS = ("num_train_timesteps", "beta_start", "beta_end", "beta_schedule", "prediction_type",
                  "noise_sampler_seed")


def sampler_names() -> list[str]:
    return [s.name for s in SAMPLERS]


def schedule_labels() -> list[str]:
    return [s.label for s in SCHEDULES]


def _norm(text: str) -> str:
    return text.strip().lower()


def find_schedule(name: str) -> ScheduleSpec:
    """Schedule by label, API name or alias (case-insensitive)."""
    key = _norm(name or "Automatic")
    for spec in SCHEDULES:
        if key in {_norm(spec.label), spec.name, *(_norm(a) for a in spec.aliases)}:
            return spec
    raise InvalidParams(msg("unknown_schedule", name=name, choices=", ".join(schedule_labels())))


def find_sampler(name: str) -> SamplerSpec:
    """Sampler by UI name or alias (case-insensitive)."""
    key = _norm(name)
    for spec in SAMPLERS:
        if key in {_norm(spec.name), *(_norm(a) for a in spec.aliases)}:
            return spec
    raise InvalidParams(msg("unknown_sampler", name=name, choices=", ".join(sampler_names())))


def split_legacy_name(name: str, scheduler: str = "Automatic") -> tuple[str, str]:
    """'DPM++ 2M Karras' (pre-1.9 infotexts and API) -> ('DPM++ 2M', 'Karras')."""
    for spec in SCHEDULES[1:]:
        for label in (spec.label, *spec.aliases):
            suffix = " " + label
            if name.lower().endswith(suffix.lower()):
                base = name[: -len(suffix)]
                if any(_norm(base) in {_norm(s.name), *s.aliases} for s in SAMPLERS):
                    return base, spec.label
    return name, scheduler


def resolve_schedule(sampler_name: str, scheduler: str) -> ScheduleSpec:
    """The schedule actually used: 'Automatic' becomes the sampler's default where it has one."""
    sampler = find_sampler(sampler_name)
    schedule = find_schedule(scheduler)
    if schedule.name == "automatic" and sampler.default_schedule:
        return find_schedule(sampler.default_schedule)
    return schedule


def scheduler_config(sampler_name: str, scheduler: str, training: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(diffusers class name, constructor kwargs) for this sampler/schedule on a model.

    training holds the model's noise schedule (num_train_timesteps, betas, prediction_type, and
    rescale_betas_zero_snr for zero-terminal-SNR models, which get their schedule as trained_betas).
    Sigma schedules (Karras, Exponential) apply only to samplers that support them; for the
    others the sampler's own spacing is kept.
    """
    sampler = find_sampler(sampler_name)
    schedule = resolve_schedule(sampler_name, scheduler)
    config: dict[str, Any] = {k: training[k] for k in _TRAINING_KEYS if k in training}
    betas = sampling_betas(training)
    if betas is not None:  # zero-terminal-SNR model: its own schedule, the same for every sampler
        config["trained_betas"] = betas
    config.update(sampler.config)
    if sampler.schedulable or "timestep_spacing" in schedule.config:
        config.update(schedule.config)
    return sampler.scheduler_class, config


def schedule_ignored(sampler_name: str, scheduler: str) -> bool:
    """Whether the sampler runs on its own timesteps instead of this sigma schedule (DDIM or LCM with Karras
    or Exponential: diffusers has no sigma schedules for them)."""
    sampler = find_sampler(sampler_name)
    schedule = resolve_schedule(sampler_name, scheduler)
    return not sampler.schedulable and bool(schedule.config) and "timestep_spacing" not in schedule.config


def _accepted(cls: type, config: dict[str, Any]) -> dict[str, Any]:
    """Drop options the scheduler class does not take (e.g. spacing on single-step DPM-Solver); a subclass
    whose __init__ passes **kwargs on also takes its parent's."""
    import inspect

    params: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        signature = inspect.signature(vars(klass)["__init__"]).parameters.values()
        params |= {p.name for p in signature if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
        if not any(p.kind == p.VAR_KEYWORD for p in signature):
            break
    return {k: v for k, v in config.items() if k in params}


def scheduler_class(class_name: str) -> type:
    """The class for a diffusers scheduler name: diffusers' own, or this project's fix of it (DPM2 a's
    step sizes, Euler a's schedule types)."""
    if class_name == "KDPM2AncestralDiscreteScheduler":
        from modules.samplers.ancestral_sigmas import stable_dpm2_ancestral_class

        return stable_dpm2_ancestral_class()
    if class_name == "EulerAncestralDiscreteScheduler":
        from modules.samplers.euler_ancestral import euler_ancestral_class

        return euler_ancestral_class()
    import diffusers

    return getattr(diffusers, class_name)


def build_scheduler(sampler_name: str, scheduler: str, training: dict[str, Any]) -> Any:
    """A fresh diffusers scheduler object (each generation gets its own; they hold state)."""
    class_name, config = scheduler_config(sampler_name, scheduler, training)
    cls = scheduler_class(class_name)
    return cls(**_accepted(cls, config))
