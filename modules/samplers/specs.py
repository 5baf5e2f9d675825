"""What a sampler and a schedule type are, and the lookups over a set of them (SamplerTable).

A sampler is a SamplerSpec registered in app.registry.samplers under its UI name; a schedule type a
ScheduleSpec in app.registry.schedules under its label. A new sampler is one file:

    def register(registry):
        registry.samplers.register("My sampler", SamplerSpec("My sampler", "EulerDiscreteScheduler",
                                   aliases=("my_sampler",), builder=my_builder), source="my-extension")

builder(config) -> scheduler object, where config holds the model's training schedule plus the
sampler's and schedule type's diffusers options; without a builder the diffusers class named by
scheduler_class is made from the options it accepts (modules/samplers/builders.py).

SamplerTable is an immutable snapshot of the samplers and schedule types one request can use: the
core set (CORE_TABLE, for pure code and tests) or the app's registry (sampler_table(app.registry)).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams
from modules.messages import msg

if TYPE_CHECKING:
    from modules.registry import Registry

SchedulerBuilder = Callable[[dict[str, Any]], Any]  # diffusers-style options -> a fresh scheduler object


@dataclass(frozen=True)
class ScheduleSpec:
    label: str  # shown in the UI and written to infotext ("Karras")
    name: str  # API name ("karras")
    aliases: tuple[str, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)  # diffusers config overrides
    default_rho: float = -1  # the rho of its sigma formula, as the API lists it (-1: none)
    need_inner_model: bool = False  # A1111's flag (API): its sigmas come from the model's training sigmas


@dataclass(frozen=True)
class SamplerSpec:
    name: str  # A1111 UI name ("DPM++ 2M")
    scheduler_class: str  # diffusers class name (what the default builder makes)
    aliases: tuple[str, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)
    default_schedule: str | None = None  # label used for "Automatic", None = model's own sigmas
    schedulable: bool = True  # whether Karras/Exponential sigma schedules apply
    stochastic: bool = False  # draws fresh noise each step (needs per-image generators)
    builder: SchedulerBuilder | None = field(default=None, compare=False)  # None: diffusers' scheduler_class


def _norm(text: str) -> str:
    return text.strip().lower()


@dataclass(frozen=True)
class SamplerTable:
    """Samplers and schedule types in list order, with A1111's lookups (UI name, API name, alias; any case)."""

    samplers: tuple[SamplerSpec, ...]
    schedules: tuple[ScheduleSpec, ...]

    @staticmethod
    def of(registry: Registry) -> SamplerTable:
        """The registry's samplers and schedule types as they are now."""
        return SamplerTable(tuple(registry.samplers.items()), tuple(registry.schedules.items()))

    def sampler_names(self) -> list[str]:
        return [s.name for s in self.samplers]

    def schedule_labels(self) -> list[str]:
        return [s.label for s in self.schedules]

    def find_schedule(self, name: str) -> ScheduleSpec:
        """Schedule by label, API name or alias (case-insensitive); InvalidParams listing the choices."""
        key = _norm(name or "Automatic")
        for spec in self.schedules:
            if key in {_norm(spec.label), _norm(spec.name), *(_norm(a) for a in spec.aliases)}:
                return spec
        raise InvalidParams(msg("unknown_schedule", name=name, choices=", ".join(self.schedule_labels())))

    def find_sampler(self, name: str) -> SamplerSpec:
        """Sampler by UI name or alias (case-insensitive); InvalidParams listing the choices."""
        key = _norm(name if isinstance(name, str) else "")
        for spec in self.samplers:
            if key in {_norm(spec.name), *(_norm(a) for a in spec.aliases)}:
                return spec
        raise InvalidParams(msg("unknown_sampler", name=name, choices=", ".join(self.sampler_names())))

    def knows_sampler(self, name: str) -> bool:
        key = _norm(name)
        return any(key in {_norm(s.name), *(_norm(a) for a in s.aliases)} for s in self.samplers)

    def split_legacy_name(self, name: str, scheduler: str = "Automatic") -> tuple[str, str]:
        """'DPM++ 2M Karras' (pre-1.9 infotexts and API) -> ('DPM++ 2M', 'Karras')."""
        for spec in self.schedules:
            if _norm(spec.name) == "automatic":
                continue
            for label in (spec.label, *spec.aliases):
                suffix = " " + label
                if name.lower().endswith(suffix.lower()) and self.knows_sampler(name[: -len(suffix)]):
                    return name[: -len(suffix)], spec.label
        return name, scheduler

    def resolve_schedule(self, sampler_name: str, scheduler: str) -> ScheduleSpec:
        """The schedule actually used: 'Automatic' becomes the sampler's default where it has one."""
        sampler = self.find_sampler(sampler_name)
        schedule = self.find_schedule(scheduler)
        if _norm(schedule.name) == "automatic" and sampler.default_schedule:
            return self.find_schedule(sampler.default_schedule)
        return schedule


def register_all(registry: Registry, samplers: Iterable[SamplerSpec], schedules: Iterable[ScheduleSpec],
                 source: str) -> None:
    """Register samplers under their names and schedule types under their labels, in this order."""
    for schedule in schedules:
        registry.schedules.register(schedule.label, schedule, source=source)
    for sampler in samplers:
        registry.samplers.register(sampler.name, sampler, source=source)
