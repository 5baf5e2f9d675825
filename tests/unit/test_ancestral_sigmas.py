"""DPM2 a's ancestral sigmas in closed form: no 0 or NaN where diffusers' float32 subtraction cancels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from modules.model_manager.checkpoints import scheduler_config
from modules.samplers import registry
from modules.samplers.ancestral_sigmas import ancestral_sigmas
from modules.samplers.noise_schedule import sampling_betas, with_noise_schedule

ORDINARY = scheduler_config("epsilon")
ZERO_TERMINAL_SNR = with_noise_schedule(scheduler_config("v_prediction"), "Zero Terminal SNR")


def test_closed_form_splits_each_step_into_a_deterministic_part_and_noise() -> None:
    # 3 Karras steps on a zero-terminal-SNR schedule: the step from 113 to 0.029 is where diffusers' float32
    # sqrt(next**2 - up**2) gave 0 on one CPU and 7.6e-6 on another (7.5e-6 is right)
    sigmas = np.array([4518.76, 113.37, 0.0291675, 0.0])
    up, down, midpoint = ancestral_sigmas(sigmas)
    assert down[1] == pytest.approx(0.0291675**2 / 113.37, rel=1e-12)
    assert np.allclose(up**2 + down**2, np.append(sigmas[1:], 0.0) ** 2, rtol=1e-12, atol=0)
    assert np.all(np.isfinite(up)) and np.all(np.isfinite(down)) and np.all(np.isfinite(midpoint))
    assert np.all(down[:2] > 0) and np.all(midpoint[:2] > 0)  # no division by 0 at the midpoint evaluation
    assert np.allclose(midpoint[:2], sigmas[1:3], rtol=1e-12)  # with eta 1 the midpoint is the next sigma
    assert list(midpoint[2:]) == [0.0, 0.0] and up[-1] == down[-1] == 0.0  # the last step: Euler to 0


@pytest.mark.parametrize("schedule", ["Uniform", "Karras", "Exponential", "SGM Uniform"])
def test_on_ordinary_schedules_it_gives_diffusers_own_values(schedule: str) -> None:
    from diffusers import KDPM2AncestralDiscreteScheduler

    ours = registry.build_scheduler("DPM2 a", schedule, ORDINARY)
    _, config = registry.scheduler_config("DPM2 a", schedule, ORDINARY)
    theirs = KDPM2AncestralDiscreteScheduler(**{k: v for k, v in config.items() if k in ours.config})
    assert type(ours) is not KDPM2AncestralDiscreteScheduler and isinstance(ours, KDPM2AncestralDiscreteScheduler)
    ours.set_timesteps(20)
    theirs.set_timesteps(20)
    for name in ("sigmas", "sigmas_up", "sigmas_down", "sigmas_interpol", "timesteps"):
        mine, reference = getattr(ours, name), getattr(theirs, name)
        assert mine.shape == reference.shape and mine.dtype == reference.dtype, name
        known = torch.isfinite(reference)  # diffusers leaves 0/0 = NaN in sigma_up past the end
        atol = 1e-3 if name == "timesteps" else 1e-6  # timesteps run from 0 to 999
        assert torch.allclose(mine[known].double(), reference[known].double(), rtol=1e-4, atol=atol), name
        assert bool(torch.isfinite(mine).all()), name


@pytest.mark.parametrize("steps", [2, 3, 4, 20])
def test_on_a_zero_terminal_snr_schedule_every_value_is_finite(steps: int) -> None:
    assert sampling_betas(ZERO_TERMINAL_SNR) is not None
    scheduler = registry.build_scheduler("DPM2 a", "Karras", ZERO_TERMINAL_SNR)
    scheduler.set_timesteps(steps)
    for name in ("sigmas_up", "sigmas_down", "sigmas_interpol", "timesteps"):
        assert bool(torch.isfinite(getattr(scheduler, name)).all()), name
    following = scheduler.sigmas[2::2]  # each step's target sigma: s1, s2, ..., 0
    positive = following > 0
    assert bool((scheduler.sigmas_down[0::2][: len(following)][positive] > 0).all())
    assert bool((scheduler.sigmas_interpol[0::2][: len(following)][positive] > 0).all())
