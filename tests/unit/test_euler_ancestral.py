"""Euler a takes the Karras and Exponential schedule types (diffusers' own Euler a has none)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from modules.samplers import registry
from modules.samplers.euler_ancestral import exponential_sigmas, karras_sigmas, timesteps_for

TRAINING = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
            "beta_schedule": "scaled_linear", "prediction_type": "v_prediction"}


def test_sigma_ramps_run_from_the_highest_to_the_lowest_sigma() -> None:
    karras = karras_sigmas(0.03, 14.6, 10)
    exponential = exponential_sigmas(0.03, 14.6, 10)
    for ramp in (karras, exponential):
        assert ramp[0] == pytest.approx(14.6) and ramp[-1] == pytest.approx(0.03) and np.all(np.diff(ramp) < 0)
    assert np.allclose(np.diff(np.log(exponential)), np.log(0.03 / 14.6) / 9)
    assert np.allclose(np.diff(karras ** (1 / 7)), (0.03 ** (1 / 7) - 14.6 ** (1 / 7)) / 9)
    assert karras[5] > exponential[5]  # the exponential ramp is the limit of rho -> infinity: lower mid-way
    training = np.array([0.03, 0.1, 1.0, 14.6])
    assert np.allclose(timesteps_for(np.array([14.6, 1.0, np.sqrt(0.1), 0.03]), training), [3, 2, 1.5, 0])


@pytest.mark.parametrize("schedule", ["Karras", "Exponential"])
def test_euler_a_steps_on_the_same_sigmas_and_timesteps_as_euler(schedule: str) -> None:
    ancestral = registry.build_scheduler("Euler a", schedule, TRAINING)
    euler = registry.build_scheduler("Euler", schedule, TRAINING)
    assert ancestral.config.prediction_type == "v_prediction" and ancestral.config.timestep_spacing == "linspace"
    for scheduler in (ancestral, euler):
        scheduler.set_timesteps(12)
    assert torch.allclose(ancestral.sigmas.float(), euler.sigmas.float(), rtol=1e-5)
    assert torch.allclose(ancestral.timesteps.double(), euler.timesteps.double(), atol=1e-2)
    assert ancestral.init_noise_sigma == pytest.approx(float(euler.init_noise_sigma), rel=1e-5)


@pytest.mark.parametrize("schedule", ["Automatic", "Uniform", "SGM Uniform"])
def test_euler_a_keeps_diffusers_own_timesteps_elsewhere(schedule: str) -> None:
    from diffusers import EulerAncestralDiscreteScheduler

    ours = registry.build_scheduler("Euler a", schedule, TRAINING)
    _, config = registry.scheduler_config("Euler a", schedule, TRAINING)
    theirs = EulerAncestralDiscreteScheduler(**{k: v for k, v in config.items() if not k.startswith("use_")})
    for scheduler in (ours, theirs):
        scheduler.set_timesteps(12)
    assert torch.equal(ours.sigmas, theirs.sigmas) and torch.equal(ours.timesteps, theirs.timesteps)


def test_a_subclass_passing_kwargs_on_still_gets_its_parents_options() -> None:
    cls = registry.scheduler_class("EulerAncestralDiscreteScheduler")
    accepted = registry._accepted(cls, {**TRAINING, "use_karras_sigmas": True, "solver_order": 2})
    assert accepted == {**TRAINING, "use_karras_sigmas": True}  # solver_order belongs to other samplers


def test_a_far_ancestral_step_stays_finite() -> None:
    """Beta on a zero-terminal-SNR schedule falls from about 270 to 0.029 in one step: float32 made sigma_down
    the square root of a negative number (NaN latents); the sigmas are kept in float64."""
    training = {**TRAINING, "rescale_betas_zero_snr": True}
    scheduler = registry.build_scheduler("Euler a", "Beta", training)
    scheduler.set_timesteps(8)
    assert scheduler.sigmas[-2] / scheduler.sigmas[-3] < 1e-3
    generator = torch.Generator().manual_seed(0)
    latents = torch.randn(1, 4, 8, 8, generator=generator) * scheduler.init_noise_sigma
    for t in scheduler.timesteps:
        prediction = torch.randn(1, 4, 8, 8, generator=generator) * 0.5
        scheduler.scale_model_input(latents, t)
        latents = scheduler.step(prediction, t, latents, generator=generator).prev_sample
    assert latents.dtype == torch.float32 and torch.isfinite(latents).all()
