"""Heun PP2 (modules/samplers/heunpp2.py): its steps against a plain statement of the algorithm, its evaluation
count, img2img entry, and a run on the tiny model.

On the exact model of Gaussian data (the probability-flow ODE's solution is x * sqrt(0.25 + s^2) / sqrt(0.25 +
s_0^2)) it is a first-order method: its error halves when the steps double, a little below Euler's at the same
number of steps (4-8% at 20 steps), above Euler's at the same number of model evaluations, and above Heun's
from about 10 steps on; at 3 steps (where Heun's first big step goes far wrong) it is closer than Heun.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch

from modules.generation.denoise import HookPoint, Hooks
from modules.generation.params import Img2ImgParams, Txt2ImgParams
from modules.generation.txt2img import run_txt2img
from modules.samplers import registry
from modules.samplers.heunpp2 import run_evaluations, slope_weights

TRAINING = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
            "beta_schedule": "scaled_linear", "prediction_type": "epsilon"}
DATA_STD = 0.5
SMALL = {"width": 64, "height": 64, "steps": 3, "seed": 3}


def _scheduler(steps: int, schedule: str = "Automatic", prediction: str = "epsilon") -> Any:
    scheduler = registry.build_scheduler("Heun PP2", schedule, {**TRAINING, "prediction_type": prediction})
    scheduler.set_timesteps(steps)
    return scheduler


def _drive(scheduler: Any, denoiser: Any, x: torch.Tensor, prediction: str = "epsilon") -> tuple[torch.Tensor, int]:
    """What the loop does with a self-scheduling sampler, around an exact denoiser(x, sigma): (result, evaluations)."""
    evaluations = 0
    while (t := scheduler.next_timestep()) is not None:
        sigma = scheduler.sigma_now
        scheduler.scale_model_input(x, t)
        denoised = denoiser(x, sigma)
        if prediction == "epsilon":
            out = (x - denoised) / sigma
        else:  # v: x0 = x / (s^2 + 1) - v s / sqrt(s^2 + 1)
            out = (x / (sigma**2 + 1) - denoised) * (sigma**2 + 1) ** 0.5 / sigma
        x = scheduler.step(out, t, x).prev_sample
        evaluations += 1
    return x, evaluations


def _gaussian(x: torch.Tensor, sigma: float) -> torch.Tensor:
    return x * DATA_STD**2 / (DATA_STD**2 + sigma**2)


def _noise(sigma: float, seed: int = 0) -> torch.Tensor:
    return torch.randn((1, 2000), generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * sigma


def _exact(x: torch.Tensor, sigma_from: float) -> torch.Tensor:
    return x * DATA_STD / math.sqrt(DATA_STD**2 + sigma_from**2)


def _slope(x: torch.Tensor, sigma: float) -> torch.Tensor:
    return (x - _gaussian(x, sigma)) / sigma


def _reference(sigmas: np.ndarray, x: torch.Tensor) -> torch.Tensor:
    """The published heunpp2 (s_churn 0) written out as one plain loop over sigmas (ending with 0)."""
    s = [float(v) for v in sigmas]
    for i in range(len(s) - 1):
        d, dt = _slope(x, s[i]), s[i + 1] - s[i]
        if s[i + 1] == 0:
            x = x + d * dt
        elif s[i + 2] == 0:
            x2 = x + d * dt
            w2 = s[i + 1] / (2 * s[0])
            x = x + ((1 - w2) * d + w2 * _slope(x2, s[i + 1])) * dt
        else:
            x2 = x + d * dt
            d2 = _slope(x2, s[i + 1])
            x3 = x2 + d2 * (s[i + 2] - s[i + 1])
            w2, w3 = s[i + 1] / (3 * s[0]), s[i + 2] / (3 * s[0])
            x = x + ((1 - w2 - w3) * d + w2 * d2 + w3 * _slope(x3, s[i + 2])) * dt
    return x


def _euler(sigmas: np.ndarray, x: torch.Tensor) -> torch.Tensor:
    for a, b in zip(sigmas[:-1], sigmas[1:], strict=True):
        x = x + _slope(x, float(a)) * float(b - a)
    return x


def _heun(sigmas: np.ndarray, x: torch.Tensor) -> torch.Tensor:
    for a, b in zip(sigmas[:-1], sigmas[1:], strict=True):
        d = _slope(x, float(a))
        x2 = x + d * float(b - a)
        x = x2 if b == 0 else x + (d + _slope(x2, float(b))) / 2 * float(b - a)
    return x


def test_weights_sum_to_one_and_a_constant_prediction_is_followed_exactly() -> None:
    sigmas = np.array([10.0, 4.0, 1.0, 0.5, 0.0])
    assert slope_weights(sigmas, 0, 10.0) == pytest.approx((1 - 5 / 30, 4 / 30, 1 / 30))
    assert slope_weights(sigmas, 1, 10.0) == pytest.approx((1 - 1.5 / 30, 1 / 30, 0.5 / 30))
    assert slope_weights(sigmas, 2, 10.0) == pytest.approx((1 - 0.5 / 20, 0.5 / 20))  # second-last: Heun-like
    assert slope_weights(sigmas, 3, 10.0) == (1.0,)
    assert slope_weights(sigmas[1:], 1, 4.0) == pytest.approx((1 - 0.5 / 8, 0.5 / 8))  # a tail: its own first sigma
    for steps in (1, 2, 3, 4, 7):
        for schedule in ("Automatic", "Karras"):
            scheduler = _scheduler(steps, schedule)
            x = _noise(scheduler.init_noise_sigma)
            end, _ = _drive(scheduler, lambda x, s: torch.full_like(x, 0.25), x.clone())
            assert torch.allclose(end, torch.full_like(end, 0.25), atol=1e-9)


def test_evaluations_are_three_per_step_then_two_then_one() -> None:
    assert [run_evaluations(n) for n in (1, 2, 3, 4, 10, 20)] == [1, 3, 6, 9, 27, 57]
    for steps in (1, 2, 3, 5, 20):
        scheduler = _scheduler(steps)
        assert len(scheduler.timesteps) == steps  # one per schedule step: img2img's entry points
        assert scheduler.planned_evaluations() == scheduler.max_evaluations == run_evaluations(steps)
        _, evaluations = _drive(scheduler, _gaussian, _noise(scheduler.init_noise_sigma))
        assert evaluations == (3 * (steps - 2) + 2 + 1 if steps >= 2 else 1)
        assert scheduler.next_timestep() is None


@pytest.mark.parametrize("schedule", ["Automatic", "Karras", "Exponential"])
def test_gaussian_data_follows_the_published_algorithm_a_little_closer_than_euler(schedule: str) -> None:
    errors = {}
    for steps in (3, 10, 20):
        scheduler = _scheduler(steps, schedule)
        assert scheduler.sigmas[-1] == 0 and len(scheduler.sigmas) == steps + 1
        x = _noise(scheduler.init_noise_sigma)
        exact = _exact(x, float(scheduler.sigmas[0]))
        end, _ = _drive(scheduler, _gaussian, x.clone())
        assert torch.allclose(end, _reference(scheduler.sigmas, x.clone()), atol=1e-9, rtol=0)
        errors[steps] = (end - exact).abs().max().item()
        euler = (_euler(scheduler.sigmas, x.clone()) - exact).abs().max().item()
        assert errors[steps] < euler, "closer than Euler at the same steps"
        if steps == 3:
            assert errors[steps] < (_heun(scheduler.sigmas, x.clone()) - exact).abs().max().item()
        if steps == 20:
            assert (_heun(scheduler.sigmas, x.clone()) - exact).abs().max().item() < errors[steps]
    assert 1.6 < errors[10] / errors[20] < 2.4, "first order: the error halves with twice the steps"


def test_v_prediction_gives_the_same_steps() -> None:
    eps, v = _scheduler(6), _scheduler(6, prediction="v_prediction")
    x = _noise(eps.init_noise_sigma)
    assert torch.allclose(_drive(eps, _gaussian, x.clone())[0], _drive(v, _gaussian, x.clone(), "v_prediction")[0],
                          atol=1e-9)


def test_img2img_enters_at_the_step_of_the_strength_and_weighs_by_its_sigma() -> None:
    from modules.generation.denoise import _enter_at_strength

    scheduler = _scheduler(10)
    init, noise = torch.zeros(1, 4, 8, 8), torch.ones(1, 4, 8, 8)
    timesteps, latents = _enter_at_strength(scheduler, init, noise, 10, 0.45)  # the last 5 steps
    assert len(timesteps) == 5 and scheduler.step_now == 5
    assert scheduler.first_sigma == float(scheduler.sigmas[5]) == scheduler.sigma_now
    assert float(latents.flatten()[0]) == pytest.approx(scheduler.first_sigma, rel=1e-4)
    assert scheduler.planned_evaluations() == scheduler.max_evaluations == 3 * 3 + 2 + 1
    x = _noise(scheduler.first_sigma)
    end, evaluations = _drive(scheduler, _gaussian, x.clone())
    assert evaluations == 12
    assert torch.allclose(end, _reference(scheduler.sigmas[5:], x.clone()), atol=1e-9, rtol=0)

    low = _scheduler(10)
    timesteps, _ = _enter_at_strength(low, init, noise, 10, 0.05)  # the last step only: one Euler step
    assert len(timesteps) == 1 and low.planned_evaluations() == 1
    assert _drive(low, _gaussian, _noise(low.first_sigma))[1] == 1


def test_heunpp2_runs_on_the_tiny_model_and_the_progress_counts_its_evaluations(sd1_app) -> None:  # noqa: ANN001
    seen: list[tuple[int, int, bool]] = []
    hooks = Hooks().add(HookPoint.POST_STEP, lambda s: seen.append((s.step, s.total_steps, s.next_timestep is None)))
    result = run_txt2img(sd1_app, Txt2ImgParams(prompt="a red circle", sampler_name="Heun PP2", scheduler="Karras",
                                                **SMALL), hooks=hooks)
    assert len(result.images) == 1 and not result.warnings, "finite latents (NaN images are left out)"
    assert np.asarray(result.images[0]).std() > 0
    assert [(step, total) for step, total, _ in seen] == [(i, 6) for i in range(6)]  # 3 + 2 + 1
    assert seen[-1][2] and not any(last for *_, last in seen[:-1])
    assert "Sampler: Heun PP2, Schedule type: Karras," in result.infotexts[0]
    assert registry.find_sampler("heunpp2").name == "Heun PP2"  # Forge's and ComfyUI's name


def test_heunpp2_img2img_runs_on_the_tiny_model(sd1_app) -> None:  # noqa: ANN001
    from PIL import Image

    from modules.generation.img2img import run_img2img

    init = Image.new("RGB", (64, 64), (200, 40, 40))
    result = run_img2img(sd1_app, Img2ImgParams(prompt="x", init_images=(init,), sampler_name="Heun PP2",
                                                denoising_strength=0.5, **SMALL))
    assert len(result.images) == 1 and not result.warnings and np.asarray(result.images[0]).std() > 0
