"""The base of this app's own samplers (DPM fast, Restart): k-diffusion-style solvers in sigma, behind the
diffusers scheduler interface that the one denoising loop (modules/generation/denoise.py) drives.

Such a sampler plans, at set_timesteps, every point where it will evaluate the model: `plan` returns the
sigma of each evaluation, in order (a two-stage step contributes two points). scheduler.timesteps holds
each point's fractional training timestep, so the loop's progress counts model evaluations and the UNet
sees the right noise level. Each step(model_output, ...) call gets the prediction at the current point,
converts it to the denoised latents, and returns the latents at the next point (`advance`); the latents
after the last call are the result. Pure sigma-space code; the model's training schedule (betas or
trained_betas) only gives the sigma <-> timestep mapping and the schedule's ends.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from modules.samplers.noise_schedule import alphas_cumprod as schedule_alphas_cumprod
from modules.samplers.schedules import config_schedule, schedule_sigmas, training_sigmas


def denoised_from(model_output: Any, sample: Any, sigma: float, prediction_type: str) -> Any:
    """The model's estimate of the clean latents at noise level sigma (k-diffusion's "denoised")."""
    if prediction_type == "epsilon":
        return sample - sigma * model_output
    if prediction_type == "v_prediction":
        return sample / (sigma**2 + 1) - model_output * (sigma / (sigma**2 + 1) ** 0.5)
    if prediction_type == "sample":
        return model_output
    raise ValueError(f"unsupported prediction type {prediction_type!r}")


def timesteps_of(sigmas: np.ndarray, training: np.ndarray) -> np.ndarray:
    """The fractional training timestep of each sigma, interpolated in log sigma (the inverse of sigma_of)."""
    log_training = np.log(training)
    return np.interp(np.log(np.maximum(sigmas, training[0])), log_training, np.arange(len(training)))


def sigma_of(timesteps: np.ndarray, training: np.ndarray) -> np.ndarray:
    return np.exp(np.interp(timesteps, np.arange(len(training)), np.log(training)))


@cache
def sigma_steps_class() -> type:
    """The base class (built on first use: diffusers is imported here)."""
    import torch
    from diffusers import ConfigMixin, SchedulerMixin
    from diffusers.configuration_utils import register_to_config
    from diffusers.schedulers.scheduling_utils import SchedulerOutput

    class SigmaSteps(SchedulerMixin, ConfigMixin):  # type: ignore[misc]
        """Subclasses define plan(steps) -> evaluation sigmas and advance(denoised, sample, generator)."""

        config_name = "scheduler_config.json"
        order = 1

        @register_to_config
        def __init__(self, num_train_timesteps: int = 1000, beta_start: float = 0.00085, beta_end: float = 0.012,
                     beta_schedule: str = "scaled_linear", trained_betas: list[float] | None = None,
                     prediction_type: str = "epsilon", timestep_spacing: str = "linspace",
                     use_karras_sigmas: bool = False, use_exponential_sigmas: bool = False,
                     sigma_schedule: str = "", model_arch: str = "", eta: float = 0.0, s_noise: float = 1.0) -> None:
            if trained_betas is not None:
                alphas = np.cumprod(1.0 - np.asarray(trained_betas, dtype=np.float64))
            else:
                alphas = schedule_alphas_cumprod({"num_train_timesteps": num_train_timesteps, "beta_start": beta_start,
                                                  "beta_end": beta_end, "beta_schedule": beta_schedule})
            self.alphas_cumprod = torch.from_numpy(alphas.astype(np.float32))
            self.training = training_sigmas(alphas)
            self.points = np.array([float(self.training[-1])])  # evaluation sigmas, set by set_timesteps
            self.timesteps = torch.zeros(0)
            self.index = 0

        # --- what a subclass provides -----------------------------------------------------------------
        def plan(self, steps: int) -> np.ndarray:
            raise NotImplementedError

        def advance(self, denoised: torch.Tensor, sample: torch.Tensor, generator: Any) -> torch.Tensor:
            """Latents at point index + 1 from the prediction at point index (self.index)."""
            raise NotImplementedError

        # --- helpers ------------------------------------------------------------------------------------
        def schedule(self, steps: int) -> np.ndarray:
            """The `steps` sigmas of the schedule type the config asks for (without the final 0)."""
            return schedule_sigmas(config_schedule(self.config), steps, self.training, self.config.model_arch or "sd1")

        def noise_like(self, sample: torch.Tensor, generator: Any) -> torch.Tensor:
            from diffusers.utils.torch_utils import randn_tensor

            noise = randn_tensor(sample.shape, generator=generator, device=torch.device("cpu"), dtype=torch.float32)
            return noise.to(device=sample.device, dtype=sample.dtype)

        # --- the diffusers scheduler interface ----------------------------------------------------------
        @property
        def init_noise_sigma(self) -> float:
            return float(self.points[0])

        @property
        def step_index(self) -> int:
            return self.index

        def set_timesteps(self, num_inference_steps: int, device: Any = None) -> None:
            self.points = np.asarray(self.plan(int(num_inference_steps)), dtype=np.float64)
            timesteps = timesteps_of(self.points, self.training)
            self.timesteps = torch.from_numpy(timesteps.astype(np.float32)).to(device=device)
            self.index = 0

        def set_begin_index(self, begin_index: int = 0) -> None:
            self.index = int(begin_index)

        @property
        def sigma_now(self) -> float:
            """Sigma of the next model evaluation."""
            return float(self.points[self.index])

        def evaluated(self) -> None:
            """After each evaluation's advance: on to the next point."""
            self.index += 1

        def scale_model_input(self, sample: torch.Tensor, timestep: Any = None) -> torch.Tensor:
            return sample / (self.sigma_now**2 + 1) ** 0.5

        def step(self, model_output: torch.Tensor, timestep: Any, sample: torch.Tensor, generator: Any = None,
                 return_dict: bool = True) -> Any:
            x = sample.to(torch.float64)
            denoised = denoised_from(model_output.to(torch.float64), x, self.sigma_now, self.config.prediction_type)
            following = self.advance(denoised, x, generator).to(sample.dtype)
            self.evaluated()
            return SchedulerOutput(prev_sample=following) if return_dict else (following,)

        def add_noise(self, original: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
            """original noised to the sigma of each timestep (A1111: x + noise * sigma)."""
            t = timesteps.detach().double().cpu().numpy().reshape(-1)
            sigmas = torch.from_numpy(sigma_of(t, self.training)).to(original)
            return original + noise * sigmas.reshape(-1, *([1] * (original.ndim - 1)))

        def __len__(self) -> int:
            return int(self.config.num_train_timesteps)

    return SigmaSteps


@cache
def self_scheduling_class() -> type:
    """The base of samplers that pick their evaluations as they run (Heun PP2, Restart, DPM adaptive): the
    loop asks next_timestep() until it is None (modules/generation/denoise.py). Subclasses set
    max_evaluations and define `finished`, `sigma_now` and advance(); `timesteps` keeps one per step of the
    schedule (img2img's entry points)."""
    import torch

    class SelfScheduling(sigma_steps_class()):  # type: ignore[misc, valid-type]
        max_evaluations = 0

        @property
        def finished(self) -> bool:
            raise NotImplementedError

        def evaluated(self) -> None:
            """Subclasses keep their own place; nothing to move on here."""

        def next_timestep(self) -> torch.Tensor | None:
            if self.finished:
                return None
            return torch.tensor(float(timesteps_of(np.array([self.sigma_now]), self.training)[0]),
                                dtype=torch.float32)

        def planned_evaluations(self) -> int:
            """The exact count of this run (from its entry step)."""
            return self.max_evaluations

    return SelfScheduling
