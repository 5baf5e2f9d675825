"""Restart (modules/samplers/restart.py) in img2img and the hires pass at any denoising strength.

It schedules itself one evaluation at a time, so img2img enters at the strength's step of the schedule and runs
what a txt2img run would run from there: the restarts after the entry, none of those before it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from modules.generation.denoise import HookPoint, Hooks
from modules.generation.params import Img2ImgParams, Txt2ImgParams
from modules.samplers import registry
from modules.samplers.sigma_steps import timesteps_of

TRAINING = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
            "beta_schedule": "scaled_linear", "prediction_type": "epsilon"}
SMALL = {"width": 64, "height": 64, "seed": 3}


def _drive(scheduler: Any, x: torch.Tensor) -> tuple[torch.Tensor, list[float]]:
    """What the loop does with a self-scheduling sampler, around the exact model of Gaussian data (std 0.5):
    (result, the sigma of each evaluation)."""
    sigmas: list[float] = []
    generator = torch.Generator().manual_seed(1)
    while (t := scheduler.next_timestep()) is not None:
        sigma = scheduler.sigma_now
        sigmas.append(sigma)
        scheduler.scale_model_input(x, t)
        denoised = x * 0.25 / (0.25 + sigma**2)
        x = scheduler.step((x - denoised) / sigma, t, x, generator=generator).prev_sample
    return x, sigmas


@pytest.mark.parametrize(("steps", "schedule"), [(20, "Automatic"), (10, "Karras"), (4, "Automatic")])
def test_each_entry_step_runs_the_txt2img_evaluations_from_there(steps: int, schedule: str) -> None:
    scheduler = registry.build_scheduler("Restart", schedule, TRAINING)
    scheduler.set_timesteps(steps)
    assert len(scheduler.timesteps) == steps  # one per schedule step: img2img's entry points
    full = scheduler.restart.points()  # every evaluation of the txt2img run, restarts included
    _, txt2img = _drive(scheduler, torch.zeros(1, 8))
    assert txt2img == full and scheduler.planned_evaluations() == len(full)
    for step in range(steps):
        scheduler.set_timesteps(steps)
        scheduler.set_begin_index(step)
        planned = scheduler.planned_evaluations()
        end, sigmas = _drive(scheduler, torch.randn(1, 64, dtype=torch.float64) * float(scheduler.points[step]))
        assert sigmas == full[len(full) - planned:] and sigmas[0] == float(scheduler.points[step])
        assert sigmas[-1] == float(scheduler.points[-1]) and torch.isfinite(end).all()  # down to the lowest sigma
        restarts = sum(1 for a, b in zip(sigmas, sigmas[1:], strict=False) if b > a)
        assert restarts == sum(1 for a, b in zip(full, full[1:], strict=False) if b > a and a < sigmas[0])


@pytest.mark.parametrize(("strength", "evaluations"), [(0.05, 1), (0.3, 2 + 2 * 3 + 1), (1.0, 2 * 3 + 1 + 2 * 3)])
def test_img2img_with_restart_runs_at_any_strength_on_the_tiny_model(sd1_app, strength: float,  # noqa: ANN001
                                                                      evaluations: int) -> None:
    """4 steps: 0.05 runs the last (Euler) step only, 0.3 the last two with the restart between them, 1.0 all."""
    from PIL import Image

    from modules.generation.img2img import run_img2img

    seen: list[tuple[int, int, float]] = []
    hooks = Hooks().add(HookPoint.PRE_STEP, lambda s: seen.append((s.step, s.total_steps, float(s.timestep))))
    init = Image.new("RGB", (64, 64), (200, 40, 40))
    result = run_img2img(sd1_app, Img2ImgParams(prompt="x", init_images=(init,), sampler_name="Restart", steps=4,
                                                denoising_strength=strength, **SMALL), hooks=hooks)
    assert len(result.images) == 1 and not result.warnings, "finite latents (NaN images are left out)"
    assert np.asarray(result.images[0]).std() > 0
    assert [(step, total) for step, total, _ in seen] == [(i, evaluations) for i in range(evaluations)]
    scheduler = registry.build_scheduler("Restart", "Automatic", TRAINING)
    scheduler.set_timesteps(4)
    lowest = float(timesteps_of(np.array([float(scheduler.points[-1])]), scheduler.training)[0])
    assert seen[-1][2] == pytest.approx(lowest, abs=1e-4)  # the last evaluation is at the lowest sigma


def test_hires_pass_with_restart_at_a_low_denoising_strength(sd1_app) -> None:  # noqa: ANN001
    """Denoising 0.05: the hires pass runs its 3 steps as the last 3 of a schedule stretched to 60 steps (A1111's
    rule), below that schedule's restarts: Heun, Heun and the final Euler step (5 evaluations)."""
    from modules.generation.hires import hires_schedule
    from modules.generation.txt2img import submit_txt2img

    assert hires_schedule(3, 0.05)[0] == 60
    stretched = registry.build_scheduler("Restart", "Automatic", TRAINING)
    stretched.set_timesteps(60)
    assert stretched.restart.first_pair(57) == len(stretched.restart.pairs) - 3  # after both restart segments

    params = Txt2ImgParams(prompt="a red circle", sampler_name="Restart", steps=3, enable_hr=True, hr_scale=1.25,
                           denoising_strength=0.05, hr_upscaler="Latent (bicubic antialiased)", **SMALL)
    job = submit_txt2img(sd1_app, params)
    result = job.result()
    assert len(result.images) == 1 and not result.warnings and result.images[0].size == (80, 80)
    assert np.asarray(result.images[0]).std() > 0
    assert job.progress.total_steps == job.progress.step == (2 * 2 + 1 + 2 * 3) + (2 * 2 + 1)  # both passes
