"""Heun PP2 (Forge's and ComfyUI's "heunpp2"): a Heun-family ODE sampler that blends up to three slopes per step.

On the schedule type's sigmas s_0 > s_1 > ... > s_{n-1} > s_n = 0, with x the noisy latents and
d = (x - denoised) / sigma the ODE's slope, step i from s = s_i to s1 = s_{i+1}:
- the last step (s1 = 0): one Euler step, x += d * (s1 - s);
- the second-last (s_{i+2} = 0): x2 = x + d * (s1 - s), d2 at (x2, s1), and
  x += ((1 - w2) * d + w2 * d2) * (s1 - s) with w2 = s1 / (2 * s_0);
- every other step: x2 as above, d2 at (x2, s1), x3 = x2 + d2 * (s_{i+2} - s1), d3 at (x3, s_{i+2}), and
  x += ((1 - w2 - w3) * d + w2 * d2 + w3 * d3) * (s1 - s) with w2 = s1 / (3 * s_0), w3 = s_{i+2} / (3 * s_0).
The weights sum to 1 (a constant slope is followed exactly) and lean on the look-ahead slopes at high
sigma, on the step's own slope near the end. s_0 is the run's first sigma: img2img's entry sigma, as in
A1111/Forge, which hand the sampler only the schedule's tail. No churn (s_churn 0, their default): a
deterministic sampler.

Model evaluations: three per step, two for the second-last, one for the last: 3 (n - 2) + 2 + 1 for n >= 2
steps (a single step: 1). The one denoising loop (modules/generation/denoise.py) drives it through
next_timestep(), one evaluation at a time; scheduler.timesteps holds the schedule's n sigmas, one per step,
which give img2img its entry step; the progress total is the exact count from there (planned_evaluations).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from modules.samplers.sigma_steps import self_scheduling_class


def step_points(steps: int, i: int) -> int:
    """Model evaluations of step i of a run of `steps` steps (3, the second-last 2, the last 1)."""
    return min(3, steps - i)


def run_evaluations(steps: int, first_step: int = 0) -> int:
    """Model evaluations from step first_step to the end: 3 (n - 2) + 2 + 1 for the n steps left (n >= 2)."""
    return sum(step_points(steps, i) for i in range(first_step, steps))


def slope_weights(sigmas: np.ndarray, i: int, first_sigma: float) -> tuple[float, ...]:
    """The weights of step i's slopes (its own, then at sigmas[i+1] and sigmas[i+2]); sigmas ends with 0."""
    count = step_points(len(sigmas) - 1, i)
    if count == 1:
        return (1.0,)
    if count == 2:
        w2 = float(sigmas[i + 1]) / (2 * first_sigma)
        return (1.0 - w2, w2)
    w2, w3 = float(sigmas[i + 1]) / (3 * first_sigma), float(sigmas[i + 2]) / (3 * first_sigma)
    return (1.0 - w2 - w3, w2, w3)


@cache
def heunpp2_class() -> type:
    import torch

    base = self_scheduling_class()

    class HeunPP2Scheduler(base):  # type: ignore[misc, valid-type]
        sigmas = np.zeros(1)  # the schedule's sigmas and the final 0 (set_timesteps); none yet: nothing to run
        step_now = stage = 0

        def plan(self, steps: int) -> np.ndarray:
            """The schedule's `steps` sigmas: one timestep per step (img2img's entry points), not the evaluations."""
            grid = self.schedule(steps)
            self.sigmas = np.append(np.asarray(grid, dtype=np.float64), 0.0)
            self.begin(0)
            return grid

        def begin(self, first_step: int) -> None:
            """A fresh run from the schedule's step first_step to the end."""
            steps = len(self.sigmas) - 1
            self.step_now, self.stage = first_step, 0
            self.first_sigma = float(self.sigmas[min(first_step, steps - 1)])
            self.max_evaluations = run_evaluations(steps, first_step)
            self.evaluations = 0
            self.start: torch.Tensor | None = None  # x at the current step's start
            self.slopes: list[torch.Tensor] = []  # the current step's slopes so far

        def set_begin_index(self, begin_index: int = 0) -> None:
            """img2img: the run starts at the schedule's step begin_index."""
            super().set_begin_index(begin_index)
            self.begin(int(begin_index))

        # --- what the loop asks (modules/generation/denoise.py) -------------------------------------
        @property
        def finished(self) -> bool:
            return self.step_now >= len(self.sigmas) - 1

        @property
        def sigma_now(self) -> float:
            """Sigma of the next evaluation: the step's own, then the next one or two sigmas of the schedule."""
            return float(self.sigmas[self.step_now + self.stage])

        def evaluated(self) -> None:
            self.evaluations += 1

        def advance(self, denoised: torch.Tensor, sample: torch.Tensor, generator: Any) -> torch.Tensor:
            return self.advance_stage(sample, (sample - denoised) / self.sigma_now)

        def advance_stage(self, x: torch.Tensor, slope: torch.Tensor) -> torch.Tensor:
            """Latents at the next evaluation: the step's next look-ahead point, or, after its last slope, the
            next step's start."""
            i, sigmas = self.step_now, self.sigmas
            if self.stage == 0:
                self.start, self.slopes = x, []
            self.slopes.append(slope)
            if len(self.slopes) < step_points(len(sigmas) - 1, i):  # Euler on to the next sigma of the schedule
                here, there = sigmas[i + self.stage], sigmas[i + self.stage + 1]
                self.stage += 1
                return x + slope * float(there - here)
            weights = slope_weights(sigmas, i, self.first_sigma)
            blended = sum(w * d for w, d in zip(weights, self.slopes, strict=True))
            assert self.start is not None
            following = self.start + blended * float(sigmas[i + 1] - sigmas[i])
            self.step_now, self.stage, self.start, self.slopes = i + 1, 0, None, []
            return following

    return HeunPP2Scheduler
