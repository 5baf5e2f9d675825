"""Any diffusers k-diffusion-style scheduler on one of this app's sigma schedule types (modules/samplers/schedules.py).

diffusers' schedulers lay out their steps around a sigma list: with use_karras_sigmas they ask
_convert_to_karras for it, then give each sigma its timestep and arrange the evaluations their own way
(Heun and DPM2 evaluate each step twice, DPM-Solver keeps a history). with_sigma_schedule(cls) is a
subclass that takes a `sigma_schedule` option (a schedule type's API name, e.g. "beta") and answers that
question with the schedule's sigmas, so every such scheduler runs each schedule type in its own way.
The schedule type's config sets use_karras_sigmas with it; `model_arch` picks Align Your Steps' table.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from modules.samplers.schedules import schedule_sigmas, training_sigmas

SIGMA_SCHEDULE = "sigma_schedule"  # the config key naming the schedule type


@cache
def with_sigma_schedule(cls: type) -> type:
    """cls taking the sigma_schedule and model_arch options (cls must support use_karras_sigmas)."""
    from diffusers.configuration_utils import register_to_config

    class WithSigmaSchedule(cls):  # type: ignore[misc, valid-type]
        @register_to_config
        def __init__(self, sigma_schedule: str = "", model_arch: str = "", **kwargs: Any) -> None:
            super().__init__(**kwargs)

        def _convert_to_karras(self, in_sigmas: Any, num_inference_steps: int | None = None) -> np.ndarray:
            if not self.config.sigma_schedule:  # LMS and DPM++ SDE take no step count here
                if num_inference_steps is None:
                    return super()._convert_to_karras(in_sigmas)
                return super()._convert_to_karras(in_sigmas, num_inference_steps)
            steps = int(num_inference_steps or self.num_inference_steps)
            training = training_sigmas(self.alphas_cumprod.double().cpu().numpy())
            return schedule_sigmas(self.config.sigma_schedule, steps, training, self.config.model_arch or "sd1")

    WithSigmaSchedule.__name__ = WithSigmaSchedule.__qualname__ = f"{cls.__name__}WithSigmaSchedule"
    return WithSigmaSchedule
