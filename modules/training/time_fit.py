"""Fitting the learning-rate decay to the time a run has (TrainConfig.fit_to_time).

A run given a time limit cannot know beforehand how many steps it will get, so a decay planned over
`steps` would be cut off half-way (or a constant rate would never decay). With fit_to_time, once the
warm-up of the current cycle is done, the steps per second measured in this run (timed from its
SETTLE_STEPS-th step on) set the step at which the cycle ends (`end`): the decay reaches 0 just
before the deadline. That first rate is timed over few steps, and a machine busy with something else
then (or freed later) would misplace the end for the whole run, so the end is checked once, after
CHECK_SHARE of the cycle, against the rate timed since the fit, and moved when the two differ by more
than CHECK_TOLERANCE (the learning rate then steps to where the new cosine has it, a small jump that
early in the cycle). A later run of the same work dir begins a new cycle at the step the last one
ended at (a warm restart at refit_peak x the learning rate), fitted to its own time; a run that
resumes inside a fitted cycle (after a crash, say) finishes that cycle as planned. What was fitted is
saved with each checkpoint. Pure functions and a small record; the Trainer applies them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from modules.training.config import TrainConfig

MARGIN = 0.97  # share of the time left that the fitted cycle plans to use
SETTLE_STEPS = 5  # a run's first steps are not timed (set-up, kernel autotuning make them slow)
MIN_MEASURED_STEPS = 10  # steps timed after those before the rate is trusted
CHECK_SHARE = 0.1  # the fitted end is checked after this share of the steps the fit planned
CHECK_MIN_STEPS = 20  # and after at least this many steps timed since the fit
CHECK_TOLERANCE = 0.05  # the check moves the end when off by more than this share of the cycle's steps


@dataclass(frozen=True)
class TimeFit:
    restarts: tuple[tuple[int, float], ...] = ()  # cycles begun by later runs, beyond config.restarts
    end: int | None = None  # where the current cycle's decay ends; None: not fitted (yet)

    def to_dict(self) -> dict[str, Any]:
        return {"restarts": [list(r) for r in self.restarts], "end": self.end}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TimeFit:
        if not data:
            return cls()
        restarts = tuple((int(step), float(peak)) for step, peak in data.get("restarts", []))
        end = data.get("end")
        return cls(restarts, None if end is None else int(end))


def schedule_config(config: TrainConfig, fit: TimeFit) -> TrainConfig:
    """The config whose lr_lambda gives the schedule with the fitted cycles: their restarts, and the
    last cycle ending at fit.end."""
    return replace(config, steps=fit.end if fit.end is not None else config.steps,
                   restarts=tuple(sorted(config.restarts + fit.restarts)))


def last_step(config: TrainConfig, fit: TimeFit) -> int:
    """The step this run trains up to: the fitted end of the current cycle, else config.steps."""
    return min(config.steps, fit.end) if fit.end is not None else config.steps


def cycle_begin(config: TrainConfig, fit: TimeFit, step: int) -> int:
    """The step at which the cycle holding `step` began (0 for the first)."""
    return max([0, *(at for at, _ in (*config.restarts, *fit.restarts) if at <= step)])


def fitted_end(step: int, steps_per_s: float, seconds_left: float, limit: int) -> int:
    """The step a cycle fitted now should end at: as far as the time left allows (with MARGIN), at
    least one step on, at most `limit`."""
    return max(step + 1, min(limit, step + int(steps_per_s * max(0.0, seconds_left) * MARGIN)))


def check_due(fit: TimeFit, step: int, fitted_at: int) -> bool:
    """Whether a cycle this run fitted at step `fitted_at` is due its one check of the end: CHECK_SHARE of
    it (and CHECK_MIN_STEPS) done, in its first half (later, moving the end would jump the rate too far)."""
    if fit.end is None:
        return False
    planned = fit.end - fitted_at
    return fitted_at + max(CHECK_MIN_STEPS, int(CHECK_SHARE * planned)) <= step < fitted_at + planned / 2


def checked_end(end: int, fitted_at: int, step: int, steps_per_s: float, seconds_left: float, limit: int) -> int:
    """The end of a cycle fitted at `fitted_at`, after its check at `step`: where the rate timed since the
    fit puts it when that is more than CHECK_TOLERANCE of the cycle's planned steps away from `end`, else
    `end` (no jump for noise)."""
    estimate = fitted_end(step, steps_per_s, seconds_left, limit)
    return estimate if abs(estimate - end) > CHECK_TOLERANCE * max(1, end - fitted_at) else end


def due(config: TrainConfig, fit: TimeFit, step: int, measured_steps: int, has_deadline: bool) -> bool:
    """Whether the current cycle should be fitted now: fit_to_time with a deadline, not fitted yet, its
    warm-up done and enough of this run's steps timed."""
    return (config.fit_to_time and has_deadline and fit.end is None and measured_steps >= MIN_MEASURED_STEPS
            and step >= cycle_begin(config, fit, step) + config.warmup_steps)


def after_resume(saved: TimeFit, step: int, config: TrainConfig) -> TimeFit:
    """The fit a run goes on with from a checkpoint at `step`: inside a fitted cycle, that cycle; at its
    end (with steps left), a new cycle from here, to be fitted once its warm-up is done."""
    if saved.end is not None and step >= saved.end and step < config.steps:
        return TimeFit((*saved.restarts, (step, config.refit_peak)), None)
    return saved
