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
img2img enters at a step boundary before the restart interval; a denoising strength so low that it would
enter below it is refused with a message (the loop has already laid out the evaluations).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from modules.samplers.euler_ancestral import karras_sigmas
from modules.samplers.sigma_steps import sigma_steps_class

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
    pairs: tuple[tuple[float, float], ...]  # every ODE step (sigma -> next sigma), in order
    base_starts: tuple[int, ...]  # index in pairs of the schedule's step i (before the restarts are inserted)

    def points(self) -> list[float]:
        """The sigma of every model evaluation: each step's start, and its end unless that is 0 (Euler)."""
        return [s for start, end in self.pairs for s in ((start, end) if end > 0 else (start,))]


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

    from modules.errors import InvalidParams
    from modules.messages import msg

    base = sigma_steps_class()

    class RestartScheduler(base):  # type: ignore[misc, valid-type]
        order = 2  # img2img: the schedule's step k starts at evaluation 2 * k (before the restarts)

        def plan(self, steps: int) -> np.ndarray:
            self.restart = restart_plan(self.schedule(steps))
            self.stage_of = [(k, j) for k, (_, end) in enumerate(self.restart.pairs) for j in range(2 if end > 0 else 1)]
            self.saved: tuple[torch.Tensor, torch.Tensor] | None = None
            return np.array(self.restart.points())

        def set_begin_index(self, begin_index: int = 0) -> None:
            step = begin_index // self.order
            first = [i for i, (k, j) in enumerate(self.stage_of) if j == 0 and k == self.restart.base_starts[step]]
            if begin_index and first != [begin_index]:
                raise InvalidParams(msg("restart_img2img_too_low", sigma=f"{RESTART_FROM:g}"))
            super().set_begin_index(begin_index)

        def advance(self, denoised: torch.Tensor, sample: torch.Tensor, generator: Any) -> torch.Tensor:
            k, stage = self.stage_of[self.index]
            start, end = self.restart.pairs[k]
            if stage == 0:
                slope = (sample - denoised) / start
                euler = sample + (end - start) * slope
                if end > 0:
                    self.saved = (sample, slope)
                    return euler
                following = euler
            else:
                assert self.saved is not None
                before, slope = self.saved
                following = before + (end - start) * (slope + (sample - denoised) / end) / 2
            if k + 1 < len(self.restart.pairs) and self.restart.pairs[k + 1][0] > end:  # a restart: noise back up
                up = (self.restart.pairs[k + 1][0] ** 2 - end**2) ** 0.5 * float(self.config.s_noise)
                following = following + self.noise_like(sample, generator).to(following) * up
            return following

    return RestartScheduler
