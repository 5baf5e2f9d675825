"""How a SamplerSpec becomes a scheduler object: a diffusers class made from the options it accepts.

    builder = class_builder(my_scheduler_class)   # a loader returning the class, imported when first used
    scheduler = builder(config)                    # config: training schedule + sampler/schedule options
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from modules.samplers.specs import SamplerSpec, SchedulerBuilder


def accepted(cls: type, config: dict[str, Any]) -> dict[str, Any]:
    """Drop options the scheduler class does not take (e.g. spacing on single-step DPM-Solver); a subclass
    whose __init__ passes **kwargs on also takes its parent's."""
    params: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        signature = inspect.signature(vars(klass)["__init__"]).parameters.values()
        params |= {p.name for p in signature if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
        if not any(p.kind == p.VAR_KEYWORD for p in signature):
            break
    return {k: v for k, v in config.items() if k in params}


def diffusers_class(class_name: str) -> type:
    import diffusers

    return getattr(diffusers, class_name)


def class_builder(load_class: Callable[[], type]) -> SchedulerBuilder:
    """A builder making load_class()'s scheduler from the options it accepts; with a `sigma_schedule` option
    (the newer schedule types) a subclass of it that runs on that schedule (modules/samplers/sigma_schedule.py)."""

    def build(config: dict[str, Any]) -> Any:
        from modules.samplers.sigma_schedule import SIGMA_SCHEDULE, with_sigma_schedule

        cls = load_class()
        if config.get(SIGMA_SCHEDULE) and SIGMA_SCHEDULE not in accepted(cls, {SIGMA_SCHEDULE: True}):
            cls = with_sigma_schedule(cls)
        return cls(**accepted(cls, config))

    return build


def build_for(spec: SamplerSpec, config: dict[str, Any]) -> Any:
    """A fresh scheduler for spec: its own builder, else the diffusers class it names."""
    builder = spec.builder or class_builder(lambda: diffusers_class(spec.scheduler_class))
    return builder(config)
