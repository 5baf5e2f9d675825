"""DPM adaptive: DPM-Solver with its adaptive step size (Lu et al. 2022, "DPM-Solver") as A1111 runs it.

It chooses its own steps while running, in t = -log(sigma) from the start sigma down to the model's lowest
sigma (about 0.03, like DPM fast it does not go on to 0). Each attempt from s to s + h evaluates the model
three times (at s, s + h/3, s + 2h/3) and forms two solutions of the same interval: DPM-Solver-2 (with its
midpoint at h/3, the lower-order one, x_low) and DPM-Solver-3 (x_high); their difference, measured against
delta = max(atol, rtol * max(|x_low|, |x_prev|)) (x_prev: the previous accepted x_low), is the error

    error = ||(x_low - x_high) / delta||_2 / sqrt(number of latent values)     (over the whole batch)

The step-size controller multiplies h by 1 + atan(f - 1), f = (1 / error) ** (icoeff / order) (an integral
controller: k-diffusion's PID controller with its defaults pcoeff 0, icoeff 1, dcoeff 0; order 3, or 1.5
with eta > 0), and keeps the step when that factor is at least accept_safety (0.81); otherwise x stays and
the attempt is made again with the smaller h (three more evaluations, as in k-diffusion). The first h is
h_init = 0.05. With eta > 0 each accepted step is ancestral: it solves down to sigma_down (not below the
lowest sigma) and adds fresh noise of sigma_up. A1111 passes its "Eta for ancestral samplers" (1 by
default) here as for DPM fast; this scheduler's own default is k-diffusion's eta 0.

The steps slider is not its step count (A1111 ignores it): it only sets the cap, max_evaluations =
CAP_PER_STEP * steps. When fewer than two attempts' evaluations are left under the cap, the next attempt goes
straight to the end and is kept whatever its error, so a run always finishes there. The one denoising loop
drives it through next_timestep() (modules/generation/denoise.py); `info` counts accepted and rejected
attempts and evaluations. img2img starts at the sigma of the denoising strength (the entry point of the
model's own `steps`-step schedule, as in A1111).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from modules.samplers.dpm_fast import ancestral_split
from modules.samplers.sigma_steps import self_scheduling_class

CAP_PER_STEP = 10  # max_evaluations per step of the steps slider
ORDER = 3  # model evaluations per attempt (DPM-Solver-2/3 pair, k-diffusion's default)
R1, R2 = 1 / 3, 2 / 3  # where the two inner evaluations of an attempt lie, as fractions of h


@dataclass(frozen=True)
class AdaptiveSettings:
    """k-diffusion's defaults for sample_dpm_adaptive, which A1111 keeps."""

    rtol: float = 0.05
    atol: float = 0.0078
    h_init: float = 0.05
    pcoeff: float = 0.0
    icoeff: float = 1.0
    dcoeff: float = 0.0
    accept_safety: float = 0.81


@dataclass
class StepSizeController:
    """PID control of the step size h on the inverse error of each attempt (k-diffusion's form)."""

    h: float
    settings: AdaptiveSettings
    order: float
    inverse_errors: list[float] = field(default_factory=list)  # this attempt's, then the two accepted before

    def propose(self, error: float) -> bool:
        """Whether to keep the attempt with this error; h is rescaled either way."""
        s = self.settings
        b1 = (s.pcoeff + s.icoeff + s.dcoeff) / self.order
        b2 = -(s.pcoeff + 2 * s.dcoeff) / self.order
        b3 = s.dcoeff / self.order
        inverse = 1 / (error + 1e-8)
        if not self.inverse_errors:
            self.inverse_errors = [inverse] * 3
        self.inverse_errors[0] = inverse
        e0, e1, e2 = self.inverse_errors
        factor = 1 + math.atan(e0**b1 * e1**b2 * e2**b3 - 1)  # a soft limiter: between 1 - pi/2 and 1 + pi/2
        accept = factor >= s.accept_safety
        if accept:
            self.inverse_errors = [e0, e0, e1]
        self.h *= factor
        return accept


def error_norm(low: Any, high: Any, previous: Any, settings: AdaptiveSettings) -> float:
    """The scaled RMS difference of the two solutions of an attempt (torch tensors)."""
    import torch

    delta = torch.clamp(settings.rtol * torch.maximum(low.abs(), previous.abs()), min=settings.atol)
    return float(torch.linalg.norm((low - high) / delta)) / low.numel() ** 0.5


@dataclass
class Attempt:
    """One attempt from t = s to t = s + h (in -log sigma): where it evaluates, and what it has seen so far."""

    x: Any  # latents at s
    s: float
    target: float  # t it solves to (sigma_down's t with eta)
    end: float  # t it reaches once the noise is added (the next s when kept)
    sigma_up: float
    forced: bool  # the last attempt under the cap: kept whatever its error
    eps: list[Any] = field(default_factory=list)  # the noise predictions at its evaluations so far
    low: Any = None  # DPM-Solver-2's solution, once the second evaluation is in

    @property
    def h(self) -> float:
        return self.target - self.s

    def point(self, stage: int) -> float:
        """t of the attempt's evaluation `stage` (0, 1, 2)."""
        return self.s + (0.0, R1, R2)[stage] * self.h


def _sigma(t: float) -> float:
    return math.exp(-t)


@cache
def dpm_adaptive_class() -> type:
    import torch

    base = self_scheduling_class()

    class DPMAdaptiveScheduler(base):  # type: ignore[misc, valid-type]
        settings = AdaptiveSettings()

        def plan(self, steps: int) -> np.ndarray:
            """The model's own `steps` sigmas: not the evaluations, only img2img's entry points."""
            self.max_evaluations = max(CAP_PER_STEP * steps, 2 * ORDER)
            grid = self.schedule(steps)
            self.begin(float(grid[0]))
            return grid

        def begin(self, sigma_max: float) -> None:
            """A fresh run from sigma_max down to the lowest sigma."""
            self.t_now = -math.log(sigma_max)
            self.t_end = -math.log(float(self.training[0]))
            eta = float(self.config.eta)
            self.controller = StepSizeController(self.settings.h_init, self.settings, 1.5 if eta else ORDER)
            self.attempt: Attempt | None = None
            self.previous_low: torch.Tensor | None = None
            self.info = {"evaluations": 0, "accepted": 0, "rejected": 0}

        def set_begin_index(self, begin_index: int = 0) -> None:
            """img2img: the run starts at the grid's sigma number begin_index."""
            super().set_begin_index(begin_index)
            if 0 < begin_index < len(self.points):
                self.begin(float(self.points[begin_index]))

        # --- what the loop asks (modules/generation/denoise.py) -------------------------------------
        @property
        def finished(self) -> bool:
            return self.attempt is None and self.t_now >= self.t_end - 1e-5

        def planned_evaluations(self) -> int:
            """An estimate: those run, plus the current h's attempts to the end (the loop's progress total)."""
            stage = len(self.attempt.eps) if self.attempt is not None else 0
            s = self.attempt.s if self.attempt is not None else self.t_now
            left = math.ceil(max(self.t_end - s, 0.0) / max(abs(self.controller.h), 1e-3) - 1e-9)
            return self.info["evaluations"] - stage + ORDER * max(left, 1)

        @property
        def sigma_now(self) -> float:
            """Sigma of the next evaluation."""
            if self.attempt is None:
                return _sigma(self.t_now)
            return _sigma(self.attempt.point(len(self.attempt.eps)))

        def evaluated(self) -> None:
            self.info["evaluations"] += 1

        def advance(self, denoised: torch.Tensor, sample: torch.Tensor, generator: Any) -> torch.Tensor:
            slope = (sample - denoised) / self.sigma_now  # the sigma of this evaluation, before an attempt starts
            if self.attempt is None:
                self.attempt = self.start_attempt(sample)
            return self.advance_attempt(slope, generator)

        def start_attempt(self, x: torch.Tensor) -> Attempt:
            forced = self.info["evaluations"] + 2 * ORDER > self.max_evaluations
            t = self.t_end if forced else min(self.t_end, self.t_now + self.controller.h)
            down, up = ancestral_split(_sigma(self.t_now), _sigma(t), float(self.config.eta))
            target = min(self.t_end, -math.log(down)) if down > 0 else self.t_end
            up = math.sqrt(max(_sigma(t) ** 2 - _sigma(target) ** 2, 0.0)) if up else 0.0
            return Attempt(x, self.t_now, target, t, up, forced)

        def advance_attempt(self, eps: torch.Tensor, generator: Any) -> torch.Tensor:
            """Latents at the attempt's next evaluation, or, after its third, at the next attempt's start."""
            a = self.attempt
            assert a is not None
            a.eps.append(eps)
            x, h, e0 = a.x, a.h, a.eps[0]
            if len(a.eps) == 1:  # on to s + h/3
                s1 = _sigma(a.point(1))
                return x - s1 * math.expm1(R1 * h) * e0
            if len(a.eps) == 2:  # DPM-Solver-2's solution, and on to s + 2h/3 (DPM-Solver-3's second stage)
                following = _sigma(a.target)
                a.low = x - following * math.expm1(h) * e0 - following / (2 * R1) * math.expm1(h) * (a.eps[1] - e0)
                s2 = _sigma(a.point(2))
                return (x - s2 * math.expm1(R2 * h) * e0
                        - s2 * (R2 / R1) * (math.expm1(R2 * h) / (R2 * h) - 1) * (a.eps[1] - e0))
            following = _sigma(a.target)
            high = x - following * math.expm1(h) * e0 - following / R2 * (math.expm1(h) / h - 1) * (a.eps[2] - e0)
            error = error_norm(a.low, high, x if self.previous_low is None else self.previous_low, self.settings)
            self.attempt = None
            if not self.controller.propose(error) and not a.forced:
                self.info["rejected"] += 1
                return x
            self.info["accepted"] += 1
            self.previous_low = a.low
            self.t_now = a.end
            if a.sigma_up > 0:
                high = high + self.noise_like(x, generator).to(high) * (a.sigma_up * float(self.config.s_noise))
            return high

    return DPMAdaptiveScheduler
