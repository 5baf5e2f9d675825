"""A1111's samplers beyond the first fourteen: DPM++ 2M SDE Heun, DPM fast, Restart, PLMS.

Each converges on analytic data (an exact model of Gaussian or single-point data, no network), and runs on
the tiny model with a schedule type of the newer kind.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
import torch

from modules.generation.params import Txt2ImgParams
from modules.generation.txt2img import run_txt2img
from modules.samplers import registry
from modules.samplers.dpm_fast import fast_orders, fast_plan
from modules.samplers.restart import restart_plan
from modules.samplers.schedules import karras

TRAINING = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
            "beta_schedule": "scaled_linear", "prediction_type": "epsilon"}
DATA_STD = 0.5  # the Gaussian data's standard deviation
SMALL = {"width": 64, "height": 64, "steps": 3}


def _sigma_space(scheduler: Any, denoiser: Any, x: torch.Tensor, generator: torch.Generator | None = None,
                 prediction: str = "epsilon") -> torch.Tensor:
    """The denoising loop of modules/generation/denoise.py around an exact denoiser(x, sigma) of this app's own
    (k-diffusion style) samplers, whose latents are x0 + sigma * noise. A self-scheduling one (Restart) is asked
    for each evaluation's timestep as the loop does, the others run their timesteps laid out in advance."""
    adaptive = hasattr(scheduler, "next_timestep")
    evaluations = iter(scheduler.next_timestep, None) if adaptive else iter(scheduler.timesteps)
    for i, t in enumerate(evaluations):
        sigma = scheduler.sigma_now if adaptive else float(scheduler.points[i])
        scheduler.scale_model_input(x, t)
        denoised = denoiser(x, sigma)
        if prediction == "epsilon":
            out = (x - denoised) / sigma
        else:  # v: x0 = x / (s^2 + 1) - v s / sqrt(s^2 + 1)
            out = (x / (sigma**2 + 1) - denoised) * (sigma**2 + 1) ** 0.5 / sigma
        x = scheduler.step(out, t, x, generator=generator).prev_sample
    return x


def _gaussian(x: torch.Tensor, sigma: float) -> torch.Tensor:
    return x * DATA_STD**2 / (DATA_STD**2 + sigma**2)


def _noise_at(sigma: float) -> torch.Tensor:
    return torch.randn((1, 2000), generator=torch.Generator().manual_seed(0), dtype=torch.float64) * sigma


def _start(scheduler: Any, steps: int, seed: int = 0) -> tuple[torch.Tensor, torch.Generator]:
    scheduler.set_timesteps(steps)
    generator = torch.Generator().manual_seed(seed)
    return torch.randn((1, 20000), generator=generator, dtype=torch.float64) * scheduler.init_noise_sigma, generator


def test_dpm_fast_orders_add_up_to_the_evaluations_and_steps_are_exact_for_constant_data() -> None:
    assert [fast_orders(n) for n in (1, 2, 3, 4, 5, 20, 21)] == [
        [1], [2], [2, 1], [3, 1], [3, 2], [3] * 6 + [2], [3] * 6 + [2, 1]]
    assert all(sum(fast_orders(n)) == n for n in range(1, 151))
    plan = fast_plan(20, 0.03, 14.6)
    assert plan[0].sigma == 14.6 and plan[-1].target == pytest.approx(0.03)
    assert np.allclose([s.h for s in plan], np.log(14.6 / 0.03) / 7)  # evenly spaced in log sigma
    for steps in (1, 2, 3, 4, 5, 20):  # an exponential integrator: exact when the denoised value is constant
        scheduler = registry.build_scheduler("DPM fast", "Automatic", TRAINING)
        scheduler.register_to_config(eta=0.0)
        x, _ = _start(scheduler, steps)
        start, low, high = x.clone(), float(scheduler.training[0]), float(scheduler.training[-1])
        end = _sigma_space(scheduler, lambda x, s: torch.full_like(x, 0.25), x)
        assert len(scheduler.timesteps) == steps
        assert torch.allclose(end, 0.25 + (start - 0.25) * low / high, atol=1e-9)


@pytest.mark.parametrize(("sampler", "eta", "prediction"), [("DPM fast", 0.0, "epsilon"), ("DPM fast", 1.0, "epsilon"),
                                                            ("Restart", None, "epsilon"),
                                                            ("Restart", None, "v_prediction")])
def test_own_samplers_draw_gaussian_data_at_its_spread(sampler: str, eta: float | None, prediction: str) -> None:
    scheduler = registry.build_scheduler(sampler, "Automatic", {**TRAINING, "prediction_type": prediction})
    if eta is not None:
        scheduler.register_to_config(eta=eta)
    x, generator = _start(scheduler, 20)
    end = _sigma_space(scheduler, _gaussian, x, generator, prediction)
    assert end.std().item() == pytest.approx(DATA_STD, abs=0.015) and abs(end.mean().item()) < 0.02


def _vp_run(sampler: str, prediction: str, steps: int, zero_terminal_snr: bool = False) -> float:
    """Spread of the result of diffusers-style samplers (latents sqrt(a) x0 + sqrt(1 - a) noise) on Gaussian
    data, with an exact eps or v model."""
    training = {**TRAINING, "prediction_type": prediction, "rescale_betas_zero_snr": zero_terminal_snr}
    scheduler = registry.build_scheduler(sampler, "Automatic", training)
    x, generator = _start(scheduler, steps)
    stochastic = {"generator": generator} if "generator" in inspect.signature(scheduler.step).parameters else {}
    for t in scheduler.timesteps:
        model_in = scheduler.scale_model_input(x, t)
        alpha = scheduler.alphas_cumprod[int(t)].double()
        x0 = alpha.sqrt() * DATA_STD**2 * model_in / (alpha * DATA_STD**2 + 1 - alpha)
        eps = (model_in - alpha.sqrt() * x0) / (1 - alpha).sqrt()
        out = eps if prediction == "epsilon" else alpha.sqrt() * eps - (1 - alpha).sqrt() * x0
        x = scheduler.step(out, t, x, **stochastic).prev_sample
    return x.std().item()


def test_plms_converges_with_v_prediction_models_too() -> None:
    """PLMS mixes eps from several steps; diffusers' PNDM mixed raw v outputs (0.465 at 20 steps here)."""
    for prediction in ("epsilon", "v_prediction"):
        for zero_terminal_snr in (False, True):
            assert _vp_run("PLMS", prediction, 20, zero_terminal_snr) == pytest.approx(DATA_STD, abs=0.005)
    assert _vp_run("PLMS", "v_prediction", 5) > 0.43


def test_dpm_pp_2m_sde_heun_is_diffusers_sde_solver_with_heun_steps() -> None:
    scheduler = registry.build_scheduler("DPM++ 2M SDE Heun", "Automatic", TRAINING)
    assert (scheduler.config.algorithm_type, scheduler.config.solver_type) == ("sde-dpmsolver++", "heun")
    assert scheduler.config.use_exponential_sigmas  # A1111's default schedule for it
    assert _vp_run("DPM++ 2M SDE Heun", "epsilon", 20) == pytest.approx(DATA_STD, abs=0.02)


def test_restart_goes_back_up_and_counts_every_evaluation() -> None:
    sigmas = karras(20, np.array([0.0292, 14.6146]))
    plan = restart_plan(sigmas)
    starts = [start for start, _ in plan.pairs]
    assert [starts[i] for i in plan.base_starts] == pytest.approx(list(sigmas))
    ups = [i for i in range(1, len(starts)) if starts[i] > plan.pairs[i - 1][1]]
    assert len(ups) == 2, "two restarts at 20 steps"
    low = min(sigmas, key=lambda s: abs(s - 0.1))
    high = min(sigmas, key=lambda s: abs(s - 2.0))
    assert all(plan.pairs[i - 1][1] == pytest.approx(low) and starts[i] == pytest.approx(high) for i in ups)
    assert len(plan.points()) == 2 * 19 + 1 + 2 * 2 * 9  # Heun steps, the last Euler step, the restarts


def test_img2img_enters_own_samplers_part_way() -> None:
    """DPM fast replans the evaluations the loop has left; Restart enters at the strength's step, even below its
    restarts (which it then skips, running the steps left down to the lowest sigma)."""
    from modules.generation.denoise import _enter_at_strength

    fast = registry.build_scheduler("DPM fast", "Automatic", TRAINING)
    fast.set_timesteps(10)
    init, noise = torch.zeros(1, 4, 8, 8), torch.ones(1, 4, 8, 8)
    timesteps, latents = _enter_at_strength(fast, init, noise, 10, 0.45)  # the last 5 evaluations
    assert len(timesteps) == 5 and fast.index == 5
    assert [step.order for step in fast.steps[-2:]] == [3, 2] and fast.steps[-1].target == pytest.approx(
        float(fast.training[0]))
    assert float(latents.flatten()[0]) == pytest.approx(float(fast.points[5]), rel=1e-4)
    assert torch.equal(timesteps, fast.timesteps[5:])

    restart = registry.build_scheduler("Restart", "Automatic", TRAINING)
    restart.set_timesteps(20)
    timesteps, _ = _enter_at_strength(restart, init, noise, 20, 0.5)  # step 9 of 20: both restarts still ahead
    assert restart.index == 9 and len(timesteps) == len(restart.timesteps) - 9 == 11
    assert restart.planned_evaluations() == 2 * 10 + 1 + 2 * 2 * 9
    restart.set_timesteps(20)
    timesteps, latents = _enter_at_strength(restart, init, noise, 20, 0.1)  # step 17, below sigma 0.1
    assert len(timesteps) == 3 and restart.planned_evaluations() == 2 * 2 + 1  # Heun, Heun, Euler: no restarts
    assert float(latents.flatten()[0]) == pytest.approx(float(restart.points[17]), rel=1e-4)
    seen: list[float] = []
    end = _sigma_space(restart, lambda x, s: seen.append(s) or _gaussian(x, s), _noise_at(float(restart.points[17])))
    assert seen == sorted(seen, reverse=True) and len(seen) == 5 and torch.isfinite(end).all()
    assert seen[-1] == float(restart.points[-1]) == pytest.approx(float(restart.training[0]))  # the lowest sigma


@pytest.mark.parametrize(("sampler", "schedule"), [("DPM++ 2M SDE Heun", "Align Your Steps"), ("Restart", "Beta"),
                                                   ("DPM fast", "Automatic"), ("PLMS", "Automatic"),
                                                   ("Euler a", "KL Optimal"), ("DPM2 a", "Simple")])
def test_new_samplers_and_schedules_draw_on_the_tiny_model(sd1_app, sampler: str, schedule: str) -> None:  # noqa: ANN001
    result = run_txt2img(sd1_app, Txt2ImgParams(prompt="a red circle", sampler_name=sampler, scheduler=schedule,
                                                seed=3, **SMALL))
    assert len(result.images) == 1 and not result.warnings, "finite latents (NaN images are left out)"
    assert np.asarray(result.images[0]).std() > 0
    label = registry.resolve_schedule(sampler, schedule).label
    assert f"Sampler: {sampler}, Schedule type: {label}," in result.infotexts[0]
