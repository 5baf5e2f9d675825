"""Restart: Restart sampling (Xu et al. 2023, "Restart Sampling for Improving Generative Processes").

An ODE sampler (Heun's second-order steps on the schedule type's sigmas, Euler for the last step to 0) that,
once it has come down to a low sigma, goes back up: it adds fresh noise to return to a higher sigma and
solves that interval again, a few times, before going on. The noise contracts the errors accumulated so
far; the ODE steps keep the path sharp. The interval and counts are A1111's defaults: from the schedule's
sigma nearest 0.1 back up to its sigma nearest 2, each time solved in `segment_steps` Karras sigmas between
the two, repeated `times` times; (segment_steps, times) is (10, 2) from 19 steps, (6, 2) from 9 steps,
else (4, 1).

Model evaluations: two per Heun step, one for the final step to 0, plus the restart segments, so a run of
20 steps evaluates the model 2 * 19 + 1 + 2 * 2 * 9 = 75 times; the progress bar counts evaluations.
The one denoising loop (modules/generation/denoise.py) drives it through next_timestep(), one evaluation at
a time; scheduler.timesteps holds the schedule's sigmas, one per step, which give img2img (and the hires
pass) its entry step at any denoising strength. The run goes on from that step as txt2img would: the
restarts that come after it still run, those before it are skipped (entering at or below the sigma nearest
0.1 runs the remaining steps without any, as A1111 does); planned_evaluations() is the exact count.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from modules.samplers.euler_ancestral import karras_sigmas
from modules.samplers.sigma_steps import self_scheduling_class

RESTART_FROM = 0.1  # the sigma where the restarts happen (the schedule's nearest)
RESTART_TO = 2.0  # the sigma they go back up to (the schedule's nearest)


def restart_counts(steps: int) -> tuple[int, int]:
    """(sigmas in each restart segment, how many restarts) for a run of `steps` steps."""
    if steps + 1 >= 20:
        return 10, 2
    if steps + 1 >= 10:
        return 6, 2
    return 4, 1


@dataclass(frozen=True)
class RestartPlan:
    """Every ODE step of a Restart run in order, restart segments included."""

    pairs: tuple[tuple[float, float], ...]  # every ODE step (sigma -> next sigma), in order
    base_starts: tuple[int, ...]  # index in pairs of the schedule's step i (before the restarts are inserted)

    def points(self) -> list[float]:
        """The sigma of every model evaluation: each step's start, and its end unless that is 0 (Euler)."""
        return [s for start, end in self.pairs for s in ((start, end) if end > 0 else (start,))]

    def first_pair(self, first_step: int) -> int:
        """Index in pairs where a run entering at the schedule's step first_step begins (len(pairs): none left)."""
        return self.base_starts[first_step] if first_step < len(self.base_starts) else len(self.pairs)

    def evaluations(self, first_step: int = 0) -> int:
        """Model evaluations from the schedule's step first_step to the end, the restarts after it included."""
        return sum(2 if end > 0 else 1 for _, end in self.pairs[self.first_pair(first_step):])


def restart_plan(sigmas: np.ndarray) -> RestartPlan:
    """The steps of a Restart run on the schedule's sigmas (without the final 0)."""
    full = np.append(np.asarray(sigmas, dtype=np.float64), 0.0)
    segment_steps, times = restart_counts(len(sigmas))
    low, high = int(np.argmin(np.abs(full - RESTART_FROM))), int(np.argmin(np.abs(full - RESTART_TO)))
    segment = karras_sigmas(float(full[low]), float(full[high]), segment_steps) if high < low else np.array([])
    pairs: list[tuple[float, float]] = []
    starts: list[int] = []
    for i in range(len(sigmas)):
        starts.append(len(pairs))
        pairs.append((float(full[i]), float(full[i + 1])))
        if i + 1 == low and len(segment):
            for _ in range(times):
                pairs.extend((float(a), float(b)) for a, b in zip(segment[:-1], segment[1:], strict=True))
    return RestartPlan(tuple(pairs), tuple(starts))


@cache
def restart_class() -> type:
    import torch

    base = self_scheduling_class()

    class RestartScheduler(base):  # type: ignore[misc, valid-type]
        restart = RestartPlan((), ())  # set by set_timesteps; none yet: nothing to run
        pair_now = stage = 0  # the ODE step under way (index in restart.pairs) and its stage (0: start, 1: end)

        def plan(self, steps: int) -> np.ndarray:
            """The schedule's `steps` sigmas: one timestep per step (img2img's entry points), not the evaluations."""
            grid = self.schedule(steps)
            self.restart = restart_plan(grid)
            self.begin(0)
            return grid

        def begin(self, first_step: int) -> None:
            """A fresh run from the schedule's step first_step to the end."""
            self.pair_now, self.stage = self.restart.first_pair(first_step), 0
            self.max_evaluations = self.restart.evaluations(first_step)
            self.saved: tuple[torch.Tensor, torch.Tensor] | None = None  # x at the Heun step's start, its slope

        def set_begin_index(self, begin_index: int = 0) -> None:
            """img2img: the run starts at the schedule's step begin_index."""
            super().set_begin_index(begin_index)
            self.begin(int(begin_index))

        # --- what the loop asks (modules/generation/denoise.py) -------------------------------------
        @property
        def finished(self) -> bool:
            return self.pair_now >= len(self.restart.pairs)

        @property
        def sigma_now(self) -> float:
            """Sigma of the next evaluation: the ODE step's start, then (Heun) its end."""
            return self.restart.pairs[self.pair_now][self.stage]

        def advance(self, denoised: torch.Tensor, sample: torch.Tensor, generator: Any) -> torch.Tensor:
            """Latents at the next evaluation: the Heun step's end (Euler), or after its correction (or the final
            Euler step) the next step's start, with fresh noise added where the next step is a restart."""
            k, pairs = self.pair_now, self.restart.pairs
            start, end = pairs[k]
            if self.stage == 0:
                slope = (sample - denoised) / start
                euler = sample + (end - start) * slope
                if end > 0:
                    self.saved, self.stage = (sample, slope), 1
                    return euler
                following = euler
            else:
                assert self.saved is not None
                before, slope = self.saved
                following = before + (end - start) * (slope + (sample - denoised) / end) / 2
            self.pair_now, self.stage, self.saved = k + 1, 0, None
            if k + 1 < len(pairs) and pairs[k + 1][0] > end:  # a restart: noise back up
                up = (pairs[k + 1][0] ** 2 - end**2) ** 0.5 * float(self.config.s_noise)
                following = following + self.noise_like(sample, generator).to(following) * up
            return following

    return RestartScheduler
