"""The samplers and schedule types the app ships (A1111's names), registered at start by build_app."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from modules.registry import CORE
from modules.samplers.builders import class_builder
from modules.samplers.specs import SamplerSpec, SamplerTable, ScheduleSpec, register_all

if TYPE_CHECKING:
    from modules.registry import Registry


def _euler_ancestral() -> type:
    """Euler a with the Karras/Exponential schedule types (modules/samplers/euler_ancestral.py)."""
    from modules.samplers.euler_ancestral import euler_ancestral_class

    return euler_ancestral_class()


def _dpm2_ancestral() -> type:
    """DPM2 a with its ancestral sigmas computed without cancellation (modules/samplers/ancestral_sigmas.py)."""
    from modules.samplers.ancestral_sigmas import stable_dpm2_ancestral_class

    return stable_dpm2_ancestral_class()


def _dpm_fast() -> type:
    """DPM fast: DPM-Solver's fast scheme, this project's own scheduler (modules/samplers/dpm_fast.py)."""
    from modules.samplers.dpm_fast import dpm_fast_class

    return dpm_fast_class()


def _dpm_adaptive() -> type:
    """DPM adaptive: DPM-Solver-2/3 with adaptive step size, this project's own scheduler
    (modules/samplers/dpm_adaptive.py)."""
    from modules.samplers.dpm_adaptive import dpm_adaptive_class

    return dpm_adaptive_class()


def _ddim_cfgpp() -> type:
    """DDIM CFG++: DDIM renoising along the unconditional prediction (modules/samplers/ddim_cfgpp.py)."""
    from modules.samplers.ddim_cfgpp import ddim_cfgpp_class

    return ddim_cfgpp_class()


def _heunpp2() -> type:
    """Heun PP2: Heun steps blending up to three slopes, this project's own scheduler (modules/samplers/heunpp2.py)."""
    from modules.samplers.heunpp2 import heunpp2_class

    return heunpp2_class()


def _restart() -> type:
    """Restart sampling (Xu et al. 2023), this project's own scheduler (modules/samplers/restart.py)."""
    from modules.samplers.restart import restart_class

    return restart_class()


def _plms() -> type:
    """PLMS on diffusers' PNDM with v predictions mixed as eps (modules/samplers/plms.py)."""
    from modules.samplers.plms import plms_class

    return plms_class()


def _named(label: str, name: str, **kwargs: Any) -> ScheduleSpec:
    """A schedule type computed by modules/samplers/schedules.py: diffusers' samplers reach it through their
    Karras hook (modules/samplers/sigma_schedule.py)."""
    return ScheduleSpec(label, name, config={"use_karras_sigmas": True, "sigma_schedule": name}, **kwargs)


# diffusers classes this project replaces by its fix of them
FIXED_CLASSES: dict[str, Callable[[], type]] = {"EulerAncestralDiscreteScheduler": _euler_ancestral,
                                                "KDPM2AncestralDiscreteScheduler": _dpm2_ancestral}

CORE_SCHEDULES: tuple[ScheduleSpec, ...] = (
    ScheduleSpec("Automatic", "automatic"),
    ScheduleSpec("Uniform", "uniform", config={"timestep_spacing": "linspace"}, need_inner_model=True),
    ScheduleSpec("Karras", "karras", config={"use_karras_sigmas": True}, default_rho=7.0),
    ScheduleSpec("Exponential", "exponential", config={"use_exponential_sigmas": True}),
    _named("Polyexponential", "polyexponential", default_rho=1.0),
    ScheduleSpec("SGM Uniform", "sgm_uniform", aliases=("SGMUniform",), config={"timestep_spacing": "trailing"},
                 need_inner_model=True),
    _named("KL Optimal", "kl_optimal"),
    _named("Align Your Steps", "align_your_steps"),
    _named("Simple", "simple", need_inner_model=True),
    _named("Normal", "normal", need_inner_model=True),
    _named("DDIM", "ddim", need_inner_model=True),
    _named("Beta", "beta", need_inner_model=True),
)

CORE_SAMPLERS: tuple[SamplerSpec, ...] = (
    SamplerSpec("DPM++ 2M", "DPMSolverMultistepScheduler", ("k_dpmpp_2m",),
                {"algorithm_type": "dpmsolver++", "solver_order": 2}, "Karras"),
    SamplerSpec("DPM++ SDE", "DPMSolverSDEScheduler", ("k_dpmpp_sde",), {}, "Karras", stochastic=True),
    SamplerSpec("DPM++ 2M SDE", "DPMSolverMultistepScheduler", ("k_dpmpp_2m_sde",),
                {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}, "Exponential", stochastic=True),
    SamplerSpec("DPM++ 2M SDE Heun", "DPMSolverMultistepScheduler", ("k_dpmpp_2m_sde_heun",),
                {"algorithm_type": "sde-dpmsolver++", "solver_order": 2, "solver_type": "heun"}, "Exponential",
                stochastic=True),
    # lower_order_final: diffusers switches to it anyway for a final sigma of 0, with a warning every time
    SamplerSpec("DPM++ 2S a", "DPMSolverSinglestepScheduler", ("k_dpmpp_2s_a",),
                {"algorithm_type": "dpmsolver++", "solver_order": 2, "lower_order_final": True}, "Karras"),
    SamplerSpec("DPM++ 3M SDE", "DPMSolverMultistepScheduler", ("k_dpmpp_3m_sde",),
                {"algorithm_type": "sde-dpmsolver++", "solver_order": 3}, "Exponential", stochastic=True),
    SamplerSpec("Euler a", "EulerAncestralDiscreteScheduler", ("k_euler_a", "k_euler_ancestral"),
                {"timestep_spacing": "linspace"}, None, stochastic=True, builder=class_builder(_euler_ancestral)),
    SamplerSpec("Euler", "EulerDiscreteScheduler", ("k_euler",), {"timestep_spacing": "linspace"}),
    SamplerSpec("LMS", "LMSDiscreteScheduler", ("k_lms",), {"timestep_spacing": "linspace"}),
    SamplerSpec("Heun", "HeunDiscreteScheduler", ("k_heun",), {"timestep_spacing": "linspace"}),
    # three model evaluations per step (two for the second-last, one for the last); the progress bar counts them
    SamplerSpec("Heun PP2", "HeunPP2Scheduler", ("heunpp2",), {"timestep_spacing": "linspace"},
                builder=class_builder(_heunpp2)),
    SamplerSpec("DPM2", "KDPM2DiscreteScheduler", ("k_dpm_2",), {"timestep_spacing": "linspace"}, "Karras"),
    SamplerSpec("DPM2 a", "KDPM2AncestralDiscreteScheduler", ("k_dpm_2_a",),
                {"timestep_spacing": "linspace"}, "Karras", stochastic=True, builder=class_builder(_dpm2_ancestral)),
    # A1111 passes its "Eta for ancestral samplers" (1) to DPM fast: an ancestral sampler there
    SamplerSpec("DPM fast", "DPMFastScheduler", ("k_dpm_fast",), {"eta": 1.0}, schedulable=False,
                stochastic=True, builder=class_builder(_dpm_fast)),
    # chooses its own steps (the steps slider only caps its evaluations); eta as for DPM fast
    SamplerSpec("DPM adaptive", "DPMAdaptiveScheduler", ("k_dpm_ad",), {"eta": 1.0}, schedulable=False,
                stochastic=True, builder=class_builder(_dpm_adaptive)),
    SamplerSpec("Restart", "RestartScheduler", ("restart",), {}, "Karras", stochastic=True,
                builder=class_builder(_restart)),
    # SD's own DDIM settings (A1111's timesteps 951, 901, ..., 1 at 20 steps); diffusers' default
    # clip_sample=True would clip the predicted latents to [-1, 1] and wash every image out
    SamplerSpec("DDIM", "DDIMScheduler", ("ddim",), {"timestep_spacing": "leading", "steps_offset": 1,
                                                     "set_alpha_to_one": False, "clip_sample": False},
                schedulable=False),
    SamplerSpec("DDIM CFG++", "DDIMCFGPPScheduler", ("ddim_cfgpp",), {"timestep_spacing": "leading", "steps_offset": 1,
                                                                   "set_alpha_to_one": False, "clip_sample": False},
                schedulable=False, builder=class_builder(_ddim_cfgpp)),
    # PLMS with SD's DDIM-style timesteps; diffusers' PNDM without its Runge-Kutta warm-up
    SamplerSpec("PLMS", "PNDMScheduler", ("plms",), {"skip_prk_steps": True, "timestep_spacing": "leading",
                                                      "steps_offset": 1, "set_alpha_to_one": False},
                schedulable=False, builder=class_builder(_plms)),
    SamplerSpec("UniPC", "UniPCMultistepScheduler", ("unipc",), {}),
    SamplerSpec("LCM", "LCMScheduler", ("k_lcm",), {}, schedulable=False),
)

CORE_TABLE = SamplerTable(CORE_SAMPLERS, CORE_SCHEDULES)


def register_core_samplers(registry: Registry) -> None:
    """The core schedule types and samplers, in A1111's list order."""
    register_all(registry, CORE_SAMPLERS, CORE_SCHEDULES, source=CORE)
