"""Euler a on the Karras and Exponential schedule types, as A1111 runs it.

diffusers 0.42's EulerAncestralDiscreteScheduler has no sigma schedules (no use_karras_sigmas), so
"Euler a" with "Karras" ran on evenly spaced timesteps while the infotext said Karras, and an A1111
infotext pasted here drew another picture. This subclass takes the two flags as config and, after
diffusers has laid out its evenly spaced sigmas, replaces them with the schedule's sigmas between the
same two ends (the model's first and last sigma) and gives each its fractional timestep, which is
what diffusers' other samplers do with those flags. The step itself is diffusers' own. The newer schedule
types (Beta, Align Your Steps, ...) come the same way from their `sigma_schedule` option (schedules.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

KARRAS_RHO = 7.0


def karras_sigmas(sigma_min: float, sigma_max: float, steps: int, rho: float = KARRAS_RHO) -> np.ndarray:
    """Karras et al. (2022): evenly spaced in sigma ** (1 / rho), from sigma_max down to sigma_min."""
    ramp = np.linspace(0.0, 1.0, steps)
    low, high = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    return (high + ramp * (low - high)) ** rho


def exponential_sigmas(sigma_min: float, sigma_max: float, steps: int) -> np.ndarray:
    """Evenly spaced in log sigma, from sigma_max down to sigma_min."""
    return np.exp(np.linspace(np.log(sigma_max), np.log(sigma_min), steps))


def timesteps_for(sigmas: np.ndarray, training_sigmas: np.ndarray) -> np.ndarray:
    """The fractional training timestep of each sigma, interpolated in log sigma (training_sigmas rises
    with the timestep)."""
    log_training = np.log(np.asarray(training_sigmas, dtype=np.float64))
    return np.interp(np.log(np.maximum(sigmas, 1e-10)), log_training, np.arange(len(log_training)))


SIGMA_SCHEDULES = {"use_karras_sigmas": karras_sigmas, "use_exponential_sigmas": exponential_sigmas}


@cache
def euler_ancestral_class() -> type:
    """The scheduler class for "Euler a": diffusers' own, with the Karras and Exponential schedule types."""
    import torch
    from diffusers import EulerAncestralDiscreteScheduler
    from diffusers.configuration_utils import register_to_config

    class EulerAncestralWithSigmaSchedules(EulerAncestralDiscreteScheduler):
        @register_to_config
        def __init__(self, use_karras_sigmas: bool = False, use_exponential_sigmas: bool = False,
                     sigma_schedule: str = "", model_arch: str = "", **kwargs: Any) -> None:
            super().__init__(**kwargs)

        def set_timesteps(self, num_inference_steps: int, device: Any = None) -> None:
            super().set_timesteps(num_inference_steps, device=device)
            chosen = [f for flag, f in SIGMA_SCHEDULES.items() if getattr(self.config, flag, False)]
            named = self.config.sigma_schedule  # the newer schedule types (modules/samplers/schedules.py)
            if not chosen and not named:
                return
            training = ((1 - self.alphas_cumprod.double()) / self.alphas_cumprod.double()) ** 0.5
            if named:
                from modules.samplers.schedules import schedule_sigmas

                sigmas = schedule_sigmas(named, num_inference_steps, training.numpy(), self.config.model_arch or "sd1")
            else:
                even = self.sigmas[:-1].double().numpy()  # diffusers' sigmas end with the final 0
                sigmas = chosen[0](float(even[-1]), float(even[0]), num_inference_steps)
            timesteps = timesteps_for(sigmas, training.numpy())
            # diffusers' step takes sigma_down = sqrt(next**2 - sigma_up**2) from these; a schedule that falls
            # far in one step (Beta on a zero-terminal-SNR model: 270 -> 0.029) cancels that to a negative
            # float32 and NaN, so they are kept in float64 (on the CPU, where diffusers keeps them) except
            # for MPS, which has no float64
            exact = torch.device(device or "cpu").type != "mps"
            self.sigmas = torch.from_numpy(np.append(sigmas, 0.0).astype(np.float64 if exact else np.float32))
            self.timesteps = torch.from_numpy(timesteps.astype(np.float32)).to(device=device)

    return EulerAncestralWithSigmaSchedules
