"""The zero-terminal-SNR schedule that samplers get for models trained on it."""

from __future__ import annotations

import numpy as np
import pytest

from modules.model_manager.checkpoints import scheduler_config
from modules.samplers import registry
from modules.samplers.noise_schedule import (
    TERMINAL_ALPHA_BAR,
    alphas_cumprod,
    betas_from_alphas_cumprod,
    noise_schedule_label,
    rescale_zero_terminal_snr,
    sampling_betas,
    with_noise_schedule,
)


def test_rescale_keeps_the_first_step_and_ends_at_the_terminal_value() -> None:
    plain = alphas_cumprod(scheduler_config("v_prediction"))
    assert plain[0] == pytest.approx(1 - 0.00085) and plain[-1] == pytest.approx(0.0047, abs=1e-4)
    rescaled = rescale_zero_terminal_snr(plain)
    assert rescaled[0] == pytest.approx(plain[0]) and rescaled[-1] == TERMINAL_ALPHA_BAR
    assert np.all(np.diff(rescaled) < 0) and np.all(rescaled <= plain + 1e-12)
    assert rescale_zero_terminal_snr(plain, terminal=0.0)[-1] == 0.0
    # the first sigma A1111 and ComfyUI sample such models from
    assert np.sqrt((1 - rescaled[-1]) / rescaled[-1]) == pytest.approx(4518.76, abs=0.01)


def test_betas_round_trip_to_the_cumulative_alphas() -> None:
    rescaled = rescale_zero_terminal_snr(alphas_cumprod(scheduler_config("v_prediction")))
    betas = betas_from_alphas_cumprod(rescaled)
    assert np.allclose(np.cumprod(1 - betas), rescaled, rtol=1e-9, atol=0)
    assert np.all((betas > 0) & (betas < 1))


def test_only_flagged_models_get_their_own_betas() -> None:
    assert sampling_betas(scheduler_config("v_prediction")) is None
    betas = sampling_betas(scheduler_config("v_prediction", zero_terminal_snr=True))
    assert betas is not None and len(betas) == 1000
    _, config = registry.scheduler_config("Euler", "Automatic", scheduler_config("v_prediction", True))
    assert config["trained_betas"] == betas and "rescale_betas_zero_snr" not in config
    _, config = registry.scheduler_config("Euler", "Automatic", scheduler_config("v_prediction"))
    assert "trained_betas" not in config


def test_every_sampler_starts_from_the_same_first_sigma() -> None:
    training = scheduler_config("v_prediction", zero_terminal_snr=True)
    for spec in registry.SAMPLERS:
        scheduler = registry.build_scheduler(spec.name, "Automatic", training)
        assert float(scheduler.alphas_cumprod[-1]) == pytest.approx(TERMINAL_ALPHA_BAR, rel=1e-4), spec.name


def test_infotext_label_names_the_zero_terminal_snr_schedule_only() -> None:
    plain = scheduler_config("epsilon")
    assert noise_schedule_label(plain) is None
    assert noise_schedule_label(with_noise_schedule(plain, "Zero Terminal SNR")) == "Zero Terminal SNR"
    assert noise_schedule_label(scheduler_config("v_prediction", zero_terminal_snr=True)) == "Zero Terminal SNR"


def test_unknown_beta_schedule_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported beta schedule"):
        alphas_cumprod({"beta_schedule": "squaredcos_cap_v2"})


def test_checkpoint_markers_are_read_from_keys_and_metadata() -> None:
    from modules.model_manager.arch_detect import prediction_type_from_keys, zero_terminal_snr_from_keys

    keys = ["model.diffusion_model.x", "v_pred", "ztsnr"]
    assert prediction_type_from_keys(keys) == "v_prediction" and zero_terminal_snr_from_keys(keys)
    assert prediction_type_from_keys(keys[:1]) is None and not zero_terminal_snr_from_keys(keys[:1])
    assert zero_terminal_snr_from_keys(keys[:1], {"modelspec.zero_terminal_snr": "true"})
    assert not zero_terminal_snr_from_keys(keys[:1], {"modelspec.zero_terminal_snr": "false"})


def test_automatic_schedule_on_a_zero_terminal_snr_schedule() -> None:
    from modules.samplers.noise_schedule import automatic_schedule

    ztsnr, plain = scheduler_config("v_prediction", True), scheduler_config("v_prediction")
    assert automatic_schedule("DPM++ 2M", "Automatic", ztsnr) == "SGM Uniform"  # default Karras
    assert automatic_schedule("DPM++ 2M SDE", "Automatic", ztsnr) == "SGM Uniform"  # default Exponential
    assert automatic_schedule("Euler a", "Automatic", ztsnr) == "Automatic"  # no sigma schedule of its own
    assert automatic_schedule("DPM++ 2M", "Karras", ztsnr) == "Karras"  # a choice is kept
    assert automatic_schedule("DPM++ 2M", "Automatic", plain) == "Automatic"
    for sampler in ("Heun", "LMS"):  # two-point slopes: every step's sigma ratio kept even
        assert automatic_schedule(sampler, "Automatic", ztsnr) == "Exponential"
        assert automatic_schedule(sampler, "Automatic", plain) == "Automatic"
        assert automatic_schedule(sampler, "Uniform", ztsnr) == "Uniform"
    assert automatic_schedule("k_lms", "Automatic", ztsnr) == "Exponential"  # by alias too
