"""Fitting the learning-rate cycle to the time a run has: the pure rules (the Trainer applies them)."""

from __future__ import annotations

import pytest

from modules.training.config import TrainConfig
from modules.training.loop import lr_lambda
from modules.training.time_fit import (
    MIN_MEASURED_STEPS,
    TimeFit,
    after_resume,
    check_due,
    checked_end,
    cycle_begin,
    due,
    fitted_end,
    last_step,
    schedule_config,
)

CONFIG = TrainConfig(steps=1000, lr_schedule="cosine", warmup_steps=20, fit_to_time=True, restarts=((600, 0.5),))


def test_the_fitted_end_uses_most_of_the_time_left_within_the_limits() -> None:
    assert fitted_end(100, steps_per_s=10.0, seconds_left=50.0, limit=1000) == 100 + 485  # 97% of 500 steps
    assert fitted_end(100, 10.0, 500.0, limit=1000) == 1000  # never past the configured steps
    assert fitted_end(100, 10.0, -5.0, limit=1000) == 101  # no time left: at least one more step
    assert fitted_end(100, 0.0, 50.0, limit=1000) == 101


def test_the_end_is_checked_once_early_in_the_cycle_and_moved_only_when_clearly_off() -> None:
    fit = TimeFit(end=1000)  # fitted at step 100: 900 steps planned
    assert not check_due(fit, step=189, fitted_at=100) and check_due(fit, step=190, fitted_at=100)  # 10%
    assert check_due(TimeFit(end=150), step=120, fitted_at=100) and not check_due(TimeFit(end=150), 119, 100)
    assert not check_due(fit, 550, 100) and check_due(fit, 549, 100)  # only in the cycle's first half
    assert not check_due(TimeFit(end=130), 120, 100)  # a cycle this short is not checked
    assert not check_due(TimeFit(), 500, 100)
    # the rate timed since the fit gives 190 + int(0.97 x 850) = 1014: within 5% of 900, kept
    assert checked_end(1000, 100, step=190, steps_per_s=1.0, seconds_left=850.0, limit=5000) == 1000
    # the machine got twice as fast: 190 + int(0.97 x 2 x 850)
    assert checked_end(1000, 100, 190, 2.0, 850.0, limit=5000) == 190 + 1649
    assert checked_end(1000, 100, 190, 2.0, 850.0, limit=1200) == 1200  # never past the configured steps
    assert checked_end(1000, 100, 190, 0.5, 850.0, limit=5000) == 190 + 412  # slower: the decay ends in time


def test_a_cycle_is_fitted_once_after_its_warm_up_with_enough_steps_timed() -> None:
    fresh = TimeFit()
    assert not due(CONFIG, fresh, step=19, measured_steps=19, has_deadline=True)  # still warming up
    assert due(CONFIG, fresh, step=20, measured_steps=20, has_deadline=True)
    assert not due(CONFIG, fresh, step=20, measured_steps=20, has_deadline=False)  # no time limit: no fit
    assert not due(CONFIG, fresh, step=25, measured_steps=MIN_MEASURED_STEPS - 1, has_deadline=True)
    assert not due(CONFIG, TimeFit(end=300), step=40, measured_steps=40, has_deadline=True)  # fitted already
    no_fit = TrainConfig(steps=1000, lr_schedule="cosine", warmup_steps=20)
    assert not due(no_fit, fresh, step=40, measured_steps=40, has_deadline=True)
    later = TimeFit(restarts=((300, 0.3),))  # a new cycle from step 300 warms up again first
    assert cycle_begin(CONFIG, later, 310) == 300 and not due(CONFIG, later, 310, 50, True)
    assert due(CONFIG, later, 320, 50, True)


def test_the_fitted_schedule_decays_to_zero_at_its_end_and_restarts_at_the_set_peak() -> None:
    fit = TimeFit(end=300)
    schedule = lr_lambda(schedule_config(CONFIG, fit))
    plain = lr_lambda(CONFIG)
    assert [schedule(s) for s in range(0, 21)] == [plain(s) for s in range(0, 21)]  # the same warm-up
    assert schedule(20) == pytest.approx(1.0) and schedule(300) == pytest.approx(0.0)
    assert 0 < schedule(160) < 1 and schedule(160) == pytest.approx(0.5, abs=0.01)  # half-way down
    assert last_step(CONFIG, fit) == 300 and last_step(CONFIG, TimeFit()) == 1000

    # the next run begins a new cycle at 300 (peak 0.3) and fits it; the config's own restart at 600
    # still begins a cycle where it falls
    after = after_resume(fit, 300, CONFIG)
    assert after == TimeFit(restarts=((300, CONFIG.refit_peak),), end=None)
    refit = lr_lambda(schedule_config(CONFIG, TimeFit(after.restarts, end=800)))
    assert refit(300) == pytest.approx(CONFIG.refit_peak / 20) and refit(320) == pytest.approx(CONFIG.refit_peak)
    assert refit(620) == pytest.approx(0.5) and refit(800) == pytest.approx(0.0)


def test_a_run_resumed_inside_a_fitted_cycle_finishes_that_cycle() -> None:
    fit = TimeFit(restarts=((300, 0.3),), end=700)
    assert after_resume(fit, 450, CONFIG) == fit
    assert after_resume(TimeFit(), 450, CONFIG) == TimeFit()  # never fitted: goes on as planned
    assert after_resume(TimeFit(end=1000), 1000, CONFIG) == TimeFit(end=1000)  # every step done
    assert TimeFit.from_dict(fit.to_dict()) == fit and TimeFit.from_dict(None) == TimeFit()


def test_fit_to_time_needs_a_decaying_schedule() -> None:
    with pytest.raises(ValueError, match="decaying"):
        TrainConfig(lr_schedule="constant", fit_to_time=True).validate()
