"""The schedule types beyond Karras/Exponential (modules/samplers/schedules.py) and how samplers run on them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from modules.samplers import registry, schedules
from modules.samplers.noise_schedule import alphas_cumprod, rescale_zero_terminal_snr

TRAINING = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
            "beta_schedule": "scaled_linear", "prediction_type": "epsilon"}
SD = schedules.training_sigmas(alphas_cumprod(TRAINING))  # 0.0292 ... 14.6146
ZTSNR = schedules.training_sigmas(rescale_zero_terminal_snr(alphas_cumprod(TRAINING)))  # ... 4519
NEW = ("Polyexponential", "KL Optimal", "Align Your Steps", "Simple", "Normal", "DDIM", "Beta")


@pytest.mark.parametrize("name", sorted(schedules.SIGMA_SCHEDULES))
@pytest.mark.parametrize("steps", [1, 2, 3, 7, 20, 30, 150])
@pytest.mark.parametrize("training", [SD, ZTSNR], ids=["sd", "ztsnr"])
def test_every_schedule_has_steps_falling_sigmas_within_the_models_range(name: str, steps: int,
                                                                          training: np.ndarray) -> None:
    sigmas = schedules.schedule_sigmas(name, steps, training)
    assert sigmas.shape == (steps,) and np.all(np.isfinite(sigmas))
    assert np.all(np.diff(sigmas) <= 0), "never rising"
    if steps >= 3:
        assert np.all(np.diff(sigmas) < 0), "strictly falling"
    if name != "align_your_steps":  # NVIDIA's fixed table: the SD range whatever the model
        assert training[0] * (1 - 1e-9) <= sigmas[-1] and sigmas[0] <= training[-1] * (1 + 1e-9)


@pytest.mark.parametrize("name", ["polyexponential", "kl_optimal", "normal", "beta", "karras", "exponential",
                                  "uniform"])
def test_schedules_from_the_top_end_at_the_models_lowest_sigma(name: str) -> None:
    sigmas = schedules.schedule_sigmas(name, 10, SD)
    assert sigmas[0] == pytest.approx(SD[-1]) and sigmas[-1] == pytest.approx(SD[0])


def test_the_formulas() -> None:
    # Polyexponential with rho 1 is evenly spaced in log sigma: Exponential
    assert np.allclose(schedules.polyexponential(9, SD), schedules.exponential(9, SD))
    assert np.allclose(np.diff(np.arctan(schedules.kl_optimal(9, SD))), (np.arctan(SD[0]) - np.arctan(SD[-1])) / 8)
    # Simple: every (1000 / n)-th training sigma from the top; DDIM: the timesteps 1, 1 + 1000 // n, ... falling
    assert np.array_equal(schedules.simple(4, SD), SD[[999, 749, 499, 249]])
    assert np.array_equal(schedules.ddim(4, SD), SD[[751, 501, 251, 1]])
    assert np.array_equal(schedules.ddim(20, SD), SD[np.arange(951, 0, -50)])  # A1111's DDIM timesteps 951 .. 1
    # Normal: evenly spaced timesteps, the sigma between two training steps interpolated in log sigma
    assert schedules.normal(3, SD)[1] == pytest.approx(np.sqrt(SD[499] * SD[500]))
    # SGM Uniform drops the bottom one of n + 1 evenly spaced timesteps
    assert np.allclose(schedules.sgm_uniform(4, SD), schedules.sigma_at(np.array([999, 749.25, 499.5, 249.75]), SD))


def test_beta_is_symmetric_and_crowds_both_ends() -> None:
    """Beta(0.6, 0.6) quantiles: steps gather at both ends of the range, mirror-symmetric around its middle."""
    sigmas = schedules.beta(11, SD)
    middle = (SD[0] + SD[-1]) / 2
    assert sigmas[5] == pytest.approx(middle)
    assert np.allclose(sigmas + sigmas[::-1], 2 * middle)
    steps = -np.diff(sigmas)
    assert steps[0] < steps[5] and steps[-1] < steps[5]
    from scipy.stats import beta

    assert np.allclose(schedules.beta(5, SD), SD[0] + beta.ppf([1, 0.75, 0.5, 0.25, 0], 0.6, 0.6) * (SD[-1] - SD[0]))


def test_align_your_steps_is_nvidias_table_resampled_in_log_sigma() -> None:
    assert np.allclose(schedules.align_your_steps(11), schedules.AYS_SD15)
    assert np.allclose(schedules.align_your_steps(11, "sdxl"), schedules.AYS_SDXL)
    twenty_one = schedules.align_your_steps(21)  # every other one is a table entry, the ones between their
    assert np.allclose(twenty_one[::2], schedules.AYS_SD15)  # geometric means
    assert np.allclose(twenty_one[1::2], np.sqrt(np.array(schedules.AYS_SD15[:-1]) * schedules.AYS_SD15[1:]))


@pytest.mark.parametrize("label", NEW)
@pytest.mark.parametrize("sampler", ["Euler", "Euler a", "DPM++ 2M", "Heun", "DPM2 a", "LMS", "Restart"])
def test_samplers_step_on_the_schedule_types_sigmas(sampler: str, label: str) -> None:
    scheduler = registry.build_scheduler(sampler, label, {**TRAINING, "model_arch": "sdxl"})
    scheduler.set_timesteps(6)
    expected = schedules.schedule_sigmas(registry.find_schedule(label).name, 6, SD, "sdxl")
    if sampler == "Restart":  # its own points: each step's start among them, in order
        starts = [scheduler.restart.pairs[i][0] for i in scheduler.restart.base_starts]
        assert np.allclose(starts, expected)
        return
    sigmas = scheduler.sigmas.double().numpy()
    distinct = sigmas[np.append(True, np.abs(np.diff(sigmas)) > 1e-9)]  # Heun, DPM2 list each sigma twice
    assert np.allclose(distinct[:6], expected, rtol=1e-4) and distinct[6] == 0


def test_schedule_types_are_listed_in_a1111s_order_with_their_api_names() -> None:
    assert registry.schedule_labels() == ["Automatic", "Uniform", "Karras", "Exponential", "Polyexponential",
                                          "SGM Uniform", "KL Optimal", "Align Your Steps", "Simple", "Normal",
                                          "DDIM", "Beta"]
    assert [registry.find_schedule(label).name for label in NEW] == [
        "polyexponential", "kl_optimal", "align_your_steps", "simple", "normal", "ddim", "beta"]
    assert registry.find_schedule("Polyexponential").default_rho == 1.0
    assert registry.split_legacy_name("Euler a Align Your Steps") == ("Euler a", "Align Your Steps")


def test_timestep_samplers_ignore_the_sigma_schedules() -> None:
    for sampler in ("DDIM", "PLMS", "LCM", "DPM fast"):
        assert registry.schedule_ignored(sampler, "Beta"), sampler
    assert not registry.schedule_ignored("Euler", "Beta")
    ddim = registry.build_scheduler("DDIM", "Beta", TRAINING)
    ddim.set_timesteps(4)
    assert torch.equal(ddim.timesteps, torch.tensor([751, 501, 251, 1]))
