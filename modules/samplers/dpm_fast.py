"""DPM fast: DPM-Solver's "fast" scheme (Lu et al. 2022, "DPM-Solver", section 3.4) as A1111 runs it.

The step count is the number of model evaluations (NFE). With t = -log(sigma), the range from the model's
highest to its lowest sigma is cut into K = NFE // 3 + 1 intervals, evenly in t, taken with singlestep
DPM-Solver-3 (three evaluations each) and one or two lower-order steps at the end so that the orders add
up to NFE: [3, ..., 3, 2, 1] when NFE % 3 == 0, else [3, ..., 3, NFE % 3]. Each step is exact for a
constant denoised prediction (an exponential integrator in eps):

    order 1: x' = x - s' (e^h - 1) eps
    order 2: u = x - s(t + h/2) (e^{h/2} - 1) eps;  x' = x - s' (e^h - 1) eps - s' (e^h - 1) (eps_u - eps)
    order 3: u1 = x - s1 (e^{h/3} - 1) eps
             u2 = x - s2 (e^{2h/3} - 1) eps - 2 s2 ((e^{2h/3} - 1) / (2h/3) - 1) (eps_u1 - eps)
             x' = x - s' (e^h - 1) eps - (3/2) s' ((e^h - 1) / h - 1) (eps_u2 - eps)

with s = sigma, s' the sigma stepped to, eps = (x - denoised) / sigma at each evaluation. With eta > 0
(A1111 passes its "Eta for ancestral samplers", 1 by default) each interval is an ancestral step: it solves
down to sigma_down (not below the lowest sigma) and adds fresh noise of sigma_up. Like A1111 the run ends at
the model's lowest sigma (about 0.03), not at 0; the schedule type is not used (only its two ends are, and
those are the model's).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from modules.samplers.sigma_steps import sigma_steps_class


def fast_orders(evaluations: int) -> list[int]:
    """The order of each interval: they add up to `evaluations` (DPM-Solver-fast)."""
    intervals = evaluations // 3 + 1
    if evaluations % 3 == 0:
        return [3] * (intervals - 2) + [2, 1]
    return [3] * (intervals - 1) + [evaluations % 3]


def ancestral_split(sigma: float, following: float, eta: float) -> tuple[float, float]:
    """(sigma_down, sigma_up) of an ancestral step sigma -> following: sigma_down**2 + sigma_up**2 = following**2."""
    if not eta or following <= 0:
        return following, 0.0
    up = min(following, eta * np.sqrt(max(following**2 * (sigma**2 - following**2) / sigma**2, 0.0)))
    return float(np.sqrt(following**2 - up**2)), float(up)


@dataclass(frozen=True)
class FastStep:
    """One interval: from sigma to target (solved), then noise of sigma_up; `order` evaluations."""

    order: int
    sigma: float
    target: float  # sigma_down, at least the lowest sigma
    sigma_up: float

    @property
    def h(self) -> float:
        return float(np.log(self.sigma / self.target))

    def stage_sigmas(self) -> list[float]:
        fractions = {1: (), 2: (0.5,), 3: (1 / 3, 2 / 3)}[self.order]
        return [self.sigma, *(self.sigma * np.exp(-r * self.h) for r in fractions)]


def fast_plan(evaluations: int, sigma_min: float, sigma_max: float, eta: float = 0.0) -> list[FastStep]:
    """The intervals of a DPM fast run of `evaluations` model evaluations from sigma_max to sigma_min."""
    orders = fast_orders(max(evaluations, 1))
    grid = np.exp(-np.linspace(-np.log(sigma_max), -np.log(sigma_min), len(orders) + 1))
    grid[0], grid[-1] = sigma_max, sigma_min  # exactly, not through exp(log(...))
    steps = []
    for order, sigma, following in zip(orders, grid[:-1], grid[1:], strict=True):
        down, up = ancestral_split(float(sigma), float(following), eta)
        steps.append(FastStep(order, float(sigma), max(down, sigma_min), up))
    return steps


@cache
def dpm_fast_class() -> type:
    import torch

    base = sigma_steps_class()

    class DPMFastScheduler(base):  # type: ignore[misc, valid-type]
        def plan(self, steps: int) -> np.ndarray:
            self.steps = fast_plan(steps, float(self.training[0]), float(self.training[-1]), float(self.config.eta))
            self.stage_of = [(k, j) for k, step in enumerate(self.steps) for j in range(step.order)]
            self.saved: list[torch.Tensor] = []
            return np.array([s for step in self.steps for s in step.stage_sigmas()])

        def set_begin_index(self, begin_index: int = 0) -> None:
            """img2img: the loop has taken points begin_index onwards; they become a DPM fast run of their
            own, from the sigma at begin_index (written into the same timesteps tensor it iterates)."""
            from modules.samplers.sigma_steps import timesteps_of

            super().set_begin_index(begin_index)
            if begin_index <= 0 or begin_index >= len(self.points):
                return
            start = float(self.points[begin_index])
            tail = fast_plan(len(self.points) - begin_index, float(self.training[0]), start, float(self.config.eta))
            offset = len(self.steps)  # the tail's intervals go after the planned ones (those are not reached)
            self.steps = [*self.steps, *tail]
            self.stage_of = [*self.stage_of[:begin_index],
                             *((offset + k, j) for k, step in enumerate(tail) for j in range(step.order))]
            points = np.array([s for step in tail for s in step.stage_sigmas()])
            self.points = np.concatenate([self.points[:begin_index], points])
            self.timesteps[begin_index:] = torch.from_numpy(timesteps_of(points, self.training).astype(np.float32))

        def advance(self, denoised: torch.Tensor, sample: torch.Tensor, generator: Any) -> torch.Tensor:
            k, stage = self.stage_of[self.index]
            step: FastStep = self.steps[k]
            sigma = float(self.points[self.index])
            if stage == 0:
                self.saved = [sample]
            self.saved.append((sample - denoised) / sigma)  # eps at this stage
            x, eps = self.saved[0], self.saved[1:]
            h, target = step.h, step.target
            if stage + 1 < step.order:  # the next stage's point
                r = 1 / 3 if step.order == 3 else 0.5
                if stage == 0:
                    s1 = step.sigma * np.exp(-r * h)
                    return x - s1 * np.expm1(r * h) * eps[0]
                r2 = 2 / 3
                s2 = step.sigma * np.exp(-r2 * h)
                return (x - s2 * np.expm1(r2 * h) * eps[0]
                        - s2 * (r2 / r) * (np.expm1(r2 * h) / (r2 * h) - 1) * (eps[1] - eps[0]))
            following = x - target * np.expm1(h) * eps[0]
            if step.order == 2:
                following = following - target / (2 * 0.5) * np.expm1(h) * (eps[1] - eps[0])
            elif step.order == 3:
                following = following - target / (2 / 3) * (np.expm1(h) / h - 1) * (eps[2] - eps[0])
            if step.sigma_up > 0:
                following = following + self.noise_like(sample, generator).to(following) * (
                    step.sigma_up * float(self.config.s_noise))
            return following

    return DPMFastScheduler
