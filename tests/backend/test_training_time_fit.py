"""The Trainer fits its learning-rate decay to the time a run has (TrainConfig.fit_to_time), on a clock
that advances one second per training step."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from modules.training.config import TrainConfig
from modules.training.loop import StepContext, Trainer, checkpoints_in

LR = 1e-3


class StepClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _config(**changes: object) -> TrainConfig:
    base = dict(steps=1000, batch_size=4, learning_rate=LR, lr_schedule="cosine", warmup_steps=5, fit_to_time=True,
                checkpoint_every=1000, log_every=1000, cpu=True, max_grad_norm=1.0)
    return TrainConfig(**{**base, **changes})  # type: ignore[arg-type]


def _trainer(work: Path, config: TrainConfig, clock: StepClock) -> tuple[Trainer, list[float], object]:
    """A trainer of one linear layer whose every step takes one second of `clock`; lrs records the rate
    each step trained with."""
    torch.manual_seed(0)
    layer = torch.nn.Linear(3, 1)
    trainer = Trainer(work, {"layer": layer}, config)
    trainer.clock = clock
    lrs: list[float] = []

    def loss_fn(ctx: StepContext) -> torch.Tensor:
        clock.now += 1.0
        lrs.append(trainer.optimizer.param_groups[0]["lr"])
        x = torch.randn(4, 3, generator=ctx.generator)
        return (layer(x) - x.sum(1, keepdim=True)).pow(2).mean()

    return trainer, lrs, loss_fn


def test_a_timed_run_ends_its_decay_when_its_time_is_up_and_the_next_run_begins_a_new_cycle(tmp_path: Path) -> None:
    clock = StepClock()
    trainer, lrs, loss_fn = _trainer(tmp_path, _config(), clock)
    result = trainer.run(loss_fn, deadline=clock.now + 100)
    # fitted at step 15 (5 untimed steps, then 10 timed; the warm-up took 5) at 1 step/s with 85 s left:
    # 15 + int(0.97 x 85) steps
    assert trainer.time_fit.end == 97 and result.step == 97 and not result.finished
    assert clock.now <= 1000.0 + 100, "it ended before the deadline"
    # from step 15 on, the cosine runs from the warm-up's end (5) to 97, not to 1000
    assert lrs[4] == pytest.approx(LR) and lrs[16] == pytest.approx(LR * 0.5 * (1 + math.cos(math.pi * 11 / 92)))
    assert lrs[-1] < LR * 0.001, "decayed to almost nothing at the end"
    saved = checkpoints_in(tmp_path / "checkpoints")[-1][1]
    assert json.loads((saved / "progress.json").read_text())["time_fit"] == {"restarts": [], "end": 97}

    clock2 = StepClock()
    again, lrs2, loss_fn2 = _trainer(tmp_path, _config(), clock2)
    assert again.resume() == 97
    result = again.run(loss_fn2, deadline=clock2.now + 50)
    # a new cycle from 97: warm-up to 0.3 x LR by step 102, fitted at 112 (5 + 10 steps): 112 + int(0.97 x 35)
    assert again.time_fit.restarts == ((97, 0.3),) and again.time_fit.end == 145 and result.step == 145
    assert lrs2[0] == pytest.approx(0.3 * LR / 5) and max(lrs2) == pytest.approx(0.3 * LR)
    assert lrs2[-1] < 0.3 * LR * 0.01


def test_a_run_resumed_inside_a_fitted_cycle_keeps_its_end(tmp_path: Path) -> None:
    clock = StepClock()
    trainer, lrs, loss_fn = _trainer(tmp_path, _config(checkpoint_every=20), clock)
    steps = {"n": 0}

    def crash_at_50() -> bool:  # a stop request stands in for a crash after the checkpoint at 40
        steps["n"] += 1
        return steps["n"] == 50

    trainer.run(loss_fn, stop=crash_at_50, deadline=clock.now + 100)
    assert trainer.time_fit.end == 97
    for folder in tmp_path.glob("checkpoints/step-00000050"):  # as if it had crashed after step 40's save
        import shutil

        shutil.rmtree(folder)
    clock2 = StepClock()
    again, lrs2, loss_fn2 = _trainer(tmp_path, _config(checkpoint_every=20), clock2)
    assert again.resume() == 40 and again.time_fit.end == 97
    assert again.optimizer.param_groups[0]["lr"] == pytest.approx(lrs[40])  # the same rate for step 41
    result = again.run(loss_fn2, deadline=clock2.now + 500)
    assert result.step == 97 and len(lrs2) == 57  # the rest of the same cycle, on the same rates
    assert lrs2[:10] == pytest.approx(lrs[40:50]) and lrs2[-1] < LR * 0.001


def test_without_a_time_limit_the_schedule_runs_to_its_steps(tmp_path: Path) -> None:
    clock = StepClock()
    trainer, lrs, loss_fn = _trainer(tmp_path, _config(steps=30), clock)
    result = trainer.run(loss_fn)
    assert result.finished and result.step == 30 and trainer.time_fit.end is None
    assert lrs[-1] > 0 and lrs[-1] < LR * 0.01


def test_the_rate_is_timed_after_the_slow_first_steps(tmp_path: Path) -> None:
    """The first steps (set-up, kernel autotuning) are slow: timing them would end the cycle too early."""
    clock = StepClock()
    trainer, lrs, loss_fn = _trainer(tmp_path, _config(), clock)

    def slow_start(ctx: StepContext) -> torch.Tensor:
        clock.now += 29.0 if ctx.step < 5 else 0.0  # 30 s per step for the first 5, then 1 s
        return loss_fn(ctx)

    trainer.run(slow_start, deadline=clock.now + 250)
    # fitted at step 15 at 1 step/s (not 15 steps / 160 s) with 250 - 160 = 90 s left: 15 + int(0.97 x 90)
    assert trainer.time_fit.end == 15 + 87


def test_a_rate_timed_while_the_machine_was_busy_is_corrected_by_the_check(tmp_path: Path) -> None:
    """Something else ran during the steps the fit timed (3 s per step, then 1 s): the end the check
    sets uses the time the run has, where the first fit alone would have ended it far too early."""
    clock = StepClock()
    trainer, lrs, loss_fn = _trainer(tmp_path, _config(), clock)

    def busy_at_first(ctx: StepContext) -> torch.Tensor:
        clock.now += 2.0 if 5 <= ctx.step < 15 else 0.0
        return loss_fn(ctx)

    result = trainer.run(busy_at_first, deadline=clock.now + 400)
    # fitted at step 15 at 1/3 step/s with 365 s left: 15 + int(0.97 x 365 / 3) = 133; checked at
    # 15 + 20 = 35 at 1 step/s with 345 s left: 35 + int(0.97 x 345) = 369
    assert trainer.time_fit.end == 369 and result.step == 369
    assert clock.now <= 1000.0 + 400, "it ended before the deadline"
    assert lrs[-1] < LR * 0.001, "decayed to almost nothing at the end"
    assert lrs[35] == pytest.approx(LR * 0.5 * (1 + math.cos(math.pi * 30 / 364)))  # on the new cosine
