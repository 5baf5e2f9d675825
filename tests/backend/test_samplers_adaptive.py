"""DPM adaptive (chooses its own steps as it runs) and DDIM CFG++ (needs the unconditional prediction), and what
the one denoising loop gives such samplers: timesteps asked for one at a time under a cap, uncond_pred and
cfg_scale passed to step() when it names them.

DPM adaptive is checked against the exact solution of the probability-flow ODE of Gaussian data; DDIM CFG++
against its formula and against DDIM where cond and uncond agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

from modules.generation.conditioning import Conditioning
from modules.generation.denoise import HookPoint, Hooks, denoise
from modules.generation.params import Img2ImgParams, Txt2ImgParams
from modules.generation.txt2img import run_txt2img
from modules.jobs import Progress
from modules.samplers import registry
from modules.samplers.ddim_cfgpp import CFG_DIVISOR
from modules.samplers.dpm_adaptive import CAP_PER_STEP, AdaptiveSettings

TRAINING = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
            "beta_schedule": "scaled_linear", "prediction_type": "epsilon"}
DATA_STD = 0.5
SMALL = {"width": 64, "height": 64, "steps": 3, "seed": 3}


def _adaptive(steps: int = 20, eta: float = 0.0, settings: AdaptiveSettings | None = None) -> Any:
    scheduler = registry.build_scheduler("DPM adaptive", "Automatic", TRAINING)
    scheduler.register_to_config(eta=eta)
    if settings is not None:
        scheduler.settings = settings
    scheduler.set_timesteps(steps)
    return scheduler


def _drive(scheduler: Any, denoiser: Any, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """What the loop does with a self-scheduling sampler, around an exact denoiser(x, sigma)."""
    while (t := scheduler.next_timestep()) is not None:
        sigma = scheduler.sigma_now
        scheduler.scale_model_input(x, t)
        x = scheduler.step((x - denoiser(x, sigma)) / sigma, t, x, generator=generator).prev_sample
    return x


def _noise(scheduler: Any, seed: int = 0) -> tuple[torch.Tensor, torch.Generator]:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn((1, 20000), generator=generator, dtype=torch.float64) * scheduler.init_noise_sigma, generator


def _gaussian(x: torch.Tensor, sigma: float) -> torch.Tensor:
    return x * DATA_STD**2 / (DATA_STD**2 + sigma**2)


def test_dpm_adaptive_is_exact_for_constant_data_and_its_steps_grow_at_the_limiters_rate() -> None:
    """No error: every attempt is kept and h grows by 1 + atan(large) ~ 1 + pi/2: 0.05, 0.13, 0.33, 0.85, 2.18,
    then the rest of the 6.2 in log sigma from 14.6 to 0.029: six attempts of three evaluations."""
    scheduler = _adaptive()
    x, _ = _noise(scheduler)
    end = _drive(scheduler, lambda x, s: torch.full_like(x, 0.25), x.clone())
    low, high = float(scheduler.training[0]), float(scheduler.training[-1])
    assert torch.allclose(end, 0.25 + (x - 0.25) * low / high, atol=1e-9)
    assert scheduler.info == {"evaluations": 18, "accepted": 6, "rejected": 0}
    assert scheduler.next_timestep() is None and scheduler.t_now == pytest.approx(-math.log(low))


def test_dpm_adaptive_converges_to_the_exact_ode_solution_as_the_tolerance_tightens() -> None:
    """Gaussian data: the ODE's solution is x * sqrt(0.25 + s_min^2) / sqrt(0.25 + s_max^2). At A1111's
    tolerances (rtol 0.05) it is within a few percent; at rtol 1e-4 within 1e-3, with more evaluations."""
    errors, evaluations = [], []
    for settings in (None, AdaptiveSettings(rtol=1e-4, atol=1e-5)):
        scheduler = _adaptive(settings=settings)
        x, _ = _noise(scheduler)
        low, high = float(scheduler.training[0]), float(scheduler.training[-1])
        exact = x * math.sqrt(DATA_STD**2 + low**2) / math.sqrt(DATA_STD**2 + high**2)
        errors.append((_drive(scheduler, _gaussian, x) - exact).abs().max().item())
        evaluations.append(scheduler.info["evaluations"])
        assert scheduler.info["evaluations"] == 3 * (scheduler.info["accepted"] + scheduler.info["rejected"])
        assert scheduler.info["rejected"] > 0, "the controller overshoots now and then and takes the step again"
    assert errors[0] < 0.1 and errors[1] < 1e-3
    assert evaluations[0] < evaluations[1] <= 20 * CAP_PER_STEP


def test_dpm_adaptive_with_eta_draws_gaussian_data_at_its_spread() -> None:
    scheduler = _adaptive(eta=1.0)  # A1111's "Eta for ancestral samplers"
    x, generator = _noise(scheduler)
    end = _drive(scheduler, _gaussian, x, generator)
    assert end.std().item() == pytest.approx(DATA_STD, abs=0.015) and abs(end.mean().item()) < 0.02
    assert registry.build_scheduler("DPM adaptive", "Automatic", TRAINING).config.eta == 1.0


def test_the_cap_ends_dpm_adaptive_at_the_lowest_sigma() -> None:
    """A tolerance it cannot meet in 3 * 10 evaluations: the last attempt goes to the end and is kept."""
    scheduler = _adaptive(steps=3, settings=AdaptiveSettings(rtol=1e-9, atol=1e-12))
    x, _ = _noise(scheduler)
    end = _drive(scheduler, _gaussian, x)
    assert scheduler.max_evaluations == 3 * CAP_PER_STEP
    assert scheduler.info["evaluations"] == 30 and scheduler.info["accepted"] >= 1
    assert scheduler.t_now == pytest.approx(-math.log(float(scheduler.training[0])))
    assert torch.isfinite(end).all()


def test_dpm_adaptive_img2img_starts_at_the_sigma_of_the_strength() -> None:
    from modules.generation.denoise import _enter_at_strength

    scheduler = _adaptive(steps=10)
    init, noise = torch.zeros(1, 4, 8, 8), torch.ones(1, 4, 8, 8)
    timesteps, latents = _enter_at_strength(scheduler, init, noise, 10, 0.45)  # the grid's last 5 points
    assert len(timesteps) == 5 and scheduler.sigma_now == pytest.approx(float(scheduler.points[5]))
    assert float(latents.flatten()[0]) == pytest.approx(float(scheduler.points[5]), rel=1e-4)
    end = _drive(scheduler, _gaussian, latents.double())
    assert 0 < scheduler.info["evaluations"] < 3 * 10 and torch.isfinite(end).all()


# --- the loop, with a stand-in model (fast: no UNet) ----------------------------------------------------------


@dataclass
class _Output:
    sample: torch.Tensor


class _Model:
    """A LoadedModel stand-in: its "UNet" predicts each conditioning's mean embedding as the noise."""

    arch = "sd1"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def unet(self, latents: torch.Tensor, t: Any, encoder_hidden_states: torch.Tensor, **_: Any) -> _Output:
        self.calls.append(latents.shape[0])
        return _Output(latents * 0 + encoder_hidden_states.mean(dim=(1, 2)).reshape(-1, 1, 1, 1))


def _conds(cond: float, uncond: float) -> Any:
    c, u = Conditioning(torch.full((1, 2, 3), cond)), Conditioning(torch.full((1, 2, 3), uncond))
    return lambda step, total: (c, u)


class _Endless:
    """A self-scheduling scheduler that never says it is done: the loop's cap must end it."""

    init_noise_sigma = 1.0
    timesteps = torch.tensor([999.0])
    max_evaluations = 7

    def set_timesteps(self, steps: int, device: Any = None) -> None:
        self.steps = steps

    def next_timestep(self) -> torch.Tensor:
        return torch.tensor(500.0)

    def planned_evaluations(self) -> int:
        return 4  # an estimate that turns out low

    def scale_model_input(self, sample: torch.Tensor, timestep: Any) -> torch.Tensor:
        return sample

    def step(self, model_output: torch.Tensor, timestep: Any, sample: torch.Tensor, cfg_scale: float = 0.0,
             uncond_pred: torch.Tensor | None = None) -> _Output:
        self.seen = (cfg_scale, None if uncond_pred is None else float(uncond_pred.mean()), float(model_output.mean()))
        return type("Out", (), {"prev_sample": sample - 0.01})()


def test_the_loop_caps_a_self_scheduling_sampler_and_counts_what_ran() -> None:
    model, scheduler, progress = _Model(), _Endless(), Progress()
    totals: list[int] = []
    hooks = Hooks().add(HookPoint.PRE_STEP, lambda s: totals.append(s.total_steps))
    end = denoise(model, scheduler, torch.zeros(1, 4, 2, 2), _conds(1.0, 0.0), 1.0, 3, 16, 16, None, progress, hooks)
    assert len(model.calls) == 7 and totals == [4, 4, 4, 4, 5, 6, 7]  # never below the evaluations run
    assert progress.step == progress.total_steps == 7
    assert torch.allclose(end, torch.full_like(end, -0.07))
    # it names uncond_pred and cfg_scale: both come, and the unconditional pass runs even at CFG 1
    assert model.calls == [2] * 7 and scheduler.seen == (1.0, 0.0, 1.0)


def test_the_loop_passes_the_cfg_scale_and_stops_at_interrupt() -> None:
    model, scheduler, progress = _Model(), _Endless(), Progress()

    def interrupt(state: Any) -> None:
        if state.step == 2:
            progress.interrupted = True

    from modules.errors import Interrupted

    with pytest.raises(Interrupted):
        denoise(model, scheduler, torch.zeros(1, 4, 2, 2), _conds(1.0, 0.5), 4.0, 3, 16, 16, None, progress,
                Hooks().add(HookPoint.POST_STEP, interrupt))
    assert len(model.calls) == 3 and progress.step == 3
    assert scheduler.seen == (4.0, 0.5, 0.5 + 4.0 * 0.5)


# --- DDIM CFG++ -----------------------------------------------------------------------------------------------


def test_ddim_cfgpp_step_is_its_formula() -> None:
    scheduler = registry.build_scheduler("DDIM CFG++", "Automatic", TRAINING)
    scheduler.set_timesteps(10)
    ddim = registry.build_scheduler("DDIM", "Automatic", TRAINING)
    ddim.set_timesteps(10)
    assert torch.equal(scheduler.timesteps, ddim.timesteps)  # DDIM's: 901, 801, ..., 1
    t, following = int(scheduler.timesteps[3]), int(scheduler.timesteps[4])
    g = torch.Generator().manual_seed(1)
    x, eps_u, eps_c = (torch.randn(1, 4, 4, 4, generator=g) for _ in range(3))
    cfg = 7.0
    out = scheduler.step(eps_u + cfg * (eps_c - eps_u), t, x, uncond_pred=eps_u).prev_sample
    a, a_next = scheduler.alphas_cumprod[t], scheduler.alphas_cumprod[following]
    eps = eps_u + cfg / CFG_DIVISOR * (eps_c - eps_u)
    x0 = (x - (1 - a).sqrt() * eps) / a.sqrt()
    assert torch.allclose(out, a_next.sqrt() * x0 + (1 - a_next).sqrt() * eps_u, atol=1e-5)
    # CFG 12.5 is lambda 1: the clean latents of the conditional prediction, renoised along the unconditional one
    full = scheduler.step(eps_u + CFG_DIVISOR * (eps_c - eps_u), t, x, uncond_pred=eps_u).pred_original_sample
    assert torch.allclose(full, (x - (1 - a).sqrt() * eps_c) / a.sqrt(), atol=1e-5)
    # without an unconditional prediction: DDIM's step
    assert torch.equal(scheduler.step(eps_c, t, x).prev_sample, ddim.step(eps_c, t, x).prev_sample)


@pytest.mark.parametrize("prediction", ["epsilon", "v_prediction", "sample"])
def test_ddim_cfgpp_step_is_ddims_where_cond_and_uncond_agree(prediction: str) -> None:
    cfgpp, ddim = (registry.build_scheduler(name, "Automatic", {**TRAINING, "prediction_type": prediction})
                   for name in ("DDIM CFG++", "DDIM"))
    cfgpp.set_timesteps(10)
    ddim.set_timesteps(10)
    g = torch.Generator().manual_seed(2)
    x, out = torch.randn(1, 4, 4, 4, generator=g), torch.randn(1, 4, 4, 4, generator=g)
    for t in (cfgpp.timesteps[0], cfgpp.timesteps[-1]):  # the last one steps to the final alpha_bar
        assert torch.allclose(cfgpp.step(out, t, x, uncond_pred=out).prev_sample, ddim.step(out, t, x).prev_sample,
                              atol=1e-6)


def test_ddim_cfgpp_is_ddim_where_cond_and_uncond_agree(sd1_app) -> None:  # noqa: ANN001
    same = {"prompt": "a red circle", "negative_prompt": "a red circle", "cfg_scale": 7.0, **SMALL}
    cfgpp = run_txt2img(sd1_app, Txt2ImgParams(sampler_name="DDIM CFG++", **same))
    ddim = run_txt2img(sd1_app, Txt2ImgParams(sampler_name="DDIM", **same))
    a, b = (np.asarray(r.images[0], dtype=np.int16) for r in (cfgpp, ddim))
    assert np.abs(a - b).max() <= 1 and a.std() > 0
    assert "Sampler: DDIM CFG++," in cfgpp.infotexts[0]
    different = run_txt2img(sd1_app, Txt2ImgParams(sampler_name="DDIM CFG++", prompt="a red circle", **SMALL))
    assert not np.array_equal(np.asarray(different.images[0]), np.asarray(run_txt2img(
        sd1_app, Txt2ImgParams(sampler_name="DDIM", prompt="a red circle", **SMALL)).images[0]))


# --- DPM adaptive on the tiny model -------------------------------------------------------------------------


def test_dpm_adaptive_runs_on_the_tiny_model_and_the_progress_counts_its_evaluations(sd1_app) -> None:  # noqa: ANN001
    seen: list[tuple[int, int, bool]] = []
    hooks = Hooks().add(HookPoint.POST_STEP, lambda s: seen.append((s.step, s.total_steps, s.next_timestep is None)))
    result = run_txt2img(sd1_app, Txt2ImgParams(prompt="a red circle", sampler_name="DPM adaptive",
                                                **{**SMALL, "steps": 2}), hooks=hooks)
    assert len(result.images) == 1 and not result.warnings, "finite latents (NaN images are left out)"
    assert np.asarray(result.images[0]).std() > 0
    assert 3 <= len(seen) <= 2 * CAP_PER_STEP and len(seen) % 3 == 0  # the steps slider only caps it
    assert [step for step, _, _ in seen] == list(range(len(seen)))
    assert all(total >= step + 1 for step, total, _ in seen) and seen[-1][2] and not any(d for *_, d in seen[:-1])
    assert "Sampler: DPM adaptive," in result.infotexts[0]


def test_dpm_adaptive_stops_at_interrupt_mid_run(sd1_app) -> None:  # noqa: ANN001
    calls = {"n": 0}

    def interrupt(state: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            sd1_app.jobs.interrupt()

    result = run_txt2img(sd1_app, Txt2ImgParams(prompt="x", sampler_name="DPM adaptive", batch_count=2,
                                                **{**SMALL, "steps": 1}),
                         hooks=Hooks().add(HookPoint.POST_STEP, interrupt))
    assert result.interrupted and not result.images and calls["n"] == 4


def test_dpm_adaptive_img2img_runs_on_the_tiny_model(sd1_app) -> None:  # noqa: ANN001
    from PIL import Image

    from modules.generation.img2img import run_img2img

    init = Image.new("RGB", (64, 64), (200, 40, 40))
    result = run_img2img(sd1_app, Img2ImgParams(prompt="x", init_images=(init,), sampler_name="DPM adaptive",
                                                denoising_strength=0.5, **SMALL))
    assert len(result.images) == 1 and not result.warnings and np.asarray(result.images[0]).std() > 0
