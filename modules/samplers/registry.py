"""A1111 sampler and schedule-type names mapped to diffusers schedulers: the lookups every front door uses.

The samplers and schedule types themselves are registered entries (SamplerSpec / ScheduleSpec in
modules/samplers/specs.py; the core ones in modules/samplers/core.py, registered by build_app). Every
function here takes the SamplerTable to look in: sampler_table(app.registry) where an App is at hand
(so extension samplers are found), the core set by default (pure code and tests).
Building the scheduler object happens in build_scheduler (diffusers is imported only there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modules.samplers.builders import accepted as _accepted  # noqa: F401 - re-exported for tests
from modules.samplers.builders import build_for, diffusers_class
from modules.samplers.core import CORE_SAMPLERS, CORE_SCHEDULES, CORE_TABLE, FIXED_CLASSES
from modules.samplers.noise_schedule import sampling_betas
from modules.samplers.specs import SamplerSpec, SamplerTable, ScheduleSpec

if TYPE_CHECKING:
    from modules.registry import Registry

__all__ = ["SAMPLERS", "SCHEDULES", "SamplerSpec", "SamplerTable", "ScheduleSpec", "build_scheduler", "find_sampler",
           "find_schedule", "resolve_schedule", "sampler_names", "sampler_table", "schedule_ignored",
           "schedule_labels", "scheduler_config", "split_legacy_name"]

SCHEDULES: tuple[ScheduleSpec, ...] = CORE_SCHEDULES  # the core entries (an App may have more registered)
SAMPLERS: tuple[SamplerSpec, ...] = CORE_SAMPLERS

# keys of the training schedule that every scheduler accepts
_TRAINING_KEYS = ("num_train_timesteps", "beta_start", "beta_end", "beta_schedule", "prediction_type",
                  "noise_sampler_seed", "model_arch")  # model_arch: Align Your Steps' table (sd1 / sdxl)


def sampler_table(registry: Registry) -> SamplerTable:
    """The samplers and schedule types registered on an App, as they are now."""
    return SamplerTable.of(registry)


def sampler_names(table: SamplerTable = CORE_TABLE) -> list[str]:
    return table.sampler_names()


def schedule_labels(table: SamplerTable = CORE_TABLE) -> list[str]:
    return table.schedule_labels()


def find_schedule(name: str, table: SamplerTable = CORE_TABLE) -> ScheduleSpec:
    """Schedule by label, API name or alias (case-insensitive)."""
    return table.find_schedule(name)


def find_sampler(name: str, table: SamplerTable = CORE_TABLE) -> SamplerSpec:
    """Sampler by UI name or alias (case-insensitive)."""
    return table.find_sampler(name)


def split_legacy_name(name: str, scheduler: str = "Automatic", table: SamplerTable = CORE_TABLE) -> tuple[str, str]:
    """'DPM++ 2M Karras' (pre-1.9 infotexts and API) -> ('DPM++ 2M', 'Karras')."""
    return table.split_legacy_name(name, scheduler)


def resolve_schedule(sampler_name: str, scheduler: str, table: SamplerTable = CORE_TABLE) -> ScheduleSpec:
    """The schedule actually used: 'Automatic' becomes the sampler's default where it has one."""
    return table.resolve_schedule(sampler_name, scheduler)


def scheduler_config(sampler_name: str, scheduler: str, training: dict[str, Any],
                     table: SamplerTable = CORE_TABLE) -> tuple[str, dict[str, Any]]:
    """(diffusers class name, constructor kwargs) for this sampler/schedule on a model.

    training holds the model's noise schedule (num_train_timesteps, betas, prediction_type, and
    rescale_betas_zero_snr for zero-terminal-SNR models, which get their schedule as trained_betas).
    Sigma schedules (Karras, Exponential) apply only to samplers that support them; for the
    others the sampler's own spacing is kept.
    """
    sampler = table.find_sampler(sampler_name)
    schedule = table.resolve_schedule(sampler_name, scheduler)
    config: dict[str, Any] = {k: training[k] for k in _TRAINING_KEYS if k in training}
    betas = sampling_betas(training)
    if betas is not None:  # zero-terminal-SNR model: its own schedule, the same for every sampler
        config["trained_betas"] = betas
    config.update(sampler.config)
    if sampler.schedulable or "timestep_spacing" in schedule.config:
        config.update(schedule.config)
    return sampler.scheduler_class, config


def schedule_ignored(sampler_name: str, scheduler: str, table: SamplerTable = CORE_TABLE) -> bool:
    """Whether the sampler runs on its own timesteps instead of this sigma schedule (DDIM or LCM with Karras
    or Exponential: diffusers has no sigma schedules for them)."""
    sampler = table.find_sampler(sampler_name)
    schedule = table.resolve_schedule(sampler_name, scheduler)
    return not sampler.schedulable and bool(schedule.config) and "timestep_spacing" not in schedule.config


def scheduler_class(class_name: str) -> type:
    """The class for a diffusers scheduler name: diffusers' own, or this project's fix of it (DPM2 a's
    step sizes, Euler a's schedule types)."""
    fixed = FIXED_CLASSES.get(class_name)
    return fixed() if fixed is not None else diffusers_class(class_name)


def build_scheduler(sampler_name: str, scheduler: str, training: dict[str, Any],
                    table: SamplerTable = CORE_TABLE) -> Any:
    """A fresh scheduler object (each generation gets its own; they hold state), made by the sampler's
    builder."""
    _class_name, config = scheduler_config(sampler_name, scheduler, training, table)
    return build_for(table.find_sampler(sampler_name), config)
