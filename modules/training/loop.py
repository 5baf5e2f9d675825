"""The training loop every trainer in the project shares, built on accelerate.

A Trainer owns the accelerator, the AdamW optimizer over the given modules, the learning-rate schedule
(linear warm-up, then constant / linear / cosine, begun again at each warm restart), an optional EMA
of the weights, and checkpoints: every `checkpoint_every` optimizer steps (and when stopped) it writes
weights, optimizer, scheduler, grad scaler, RNG states and EMA to a temporary folder, then renames it
into place, so a checkpoint on disk is always complete. `resume()` continues from the newest one, on
the schedule of its own config. With fit_to_time and a deadline, the decay is fitted to the run's time
(time_fit.py). Each micro-batch gets a generator seeded by (seed, micro-step): the
noise and batches a resumed run draws are the ones an uninterrupted run would have drawn.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modules.training import time_fit
from modules.training.config import TrainConfig
from modules.training.time_fit import TimeFit

if TYPE_CHECKING:
    import torch
    from accelerate import Accelerator

log = logging.getLogger(__name__)

PROGRESS_FILE = "progress.json"
STEP_PREFIX = "step-"


@dataclass
class StepContext:
    step: int  # the optimizer step being computed (0-based)
    micro_step: int  # global micro-batch number: step * gradient_accumulation + index within the step
    generator: torch.Generator  # on the training device, seeded by (seed, micro_step)
    device: torch.device


@dataclass
class TrainResult:
    step: int  # optimizer steps done in total (including earlier runs that were resumed)
    finished: bool  # False when stopped early (time limit or stop request); resume() continues
    loss: float | None  # mean loss over the last logging window
    checkpoint: Path | None  # newest checkpoint folder


LossFn = Callable[[StepContext], "torch.Tensor"]


class EMA:
    """Exponential moving average of parameters (with the usual warm-up of the decay)."""

    def __init__(self, params: list[torch.Tensor], decay: float) -> None:
        self.params = params
        self.decay = decay
        self.updates = 0
        self.shadow = [p.detach().clone().float() for p in params]

    def update(self) -> None:
        import torch

        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        with torch.no_grad():
            torch._foreach_lerp_(self.shadow, [p.detach().float() for p in self.params], 1.0 - decay)

    def state_dict(self) -> dict[str, Any]:
        return {"decay": self.decay, "updates": self.updates, "shadow": self.shadow}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.updates = int(state["updates"])
        for mine, saved in zip(self.shadow, state["shadow"], strict=True):
            mine.copy_(saved)


def lr_lambda(config: TrainConfig) -> Callable[[int], float]:
    """Multiplier of the base learning rate at an optimizer step: warm-up, then the schedule's decay,
    begun again at every warm restart (config.restarts) with that restart's peak factor."""
    cycles = [(0, 1.0), *((at, scale) for at, scale in config.restarts if at < config.steps)]

    def factor(step: int) -> float:
        index = max(i for i, (at, _) in enumerate(cycles) if at <= step)
        begin, peak = cycles[index]
        end = cycles[index + 1][0] if index + 1 < len(cycles) else config.steps
        local = step - begin
        if local < config.warmup_steps:
            return peak * (local + 1) / config.warmup_steps
        if config.lr_schedule == "constant":
            return peak
        span = max(1, end - begin - config.warmup_steps)
        progress = min(1.0, (local - config.warmup_steps) / span)
        if config.lr_schedule == "linear":
            return peak * (1.0 - progress)
        return peak * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


def make_accelerator(config: TrainConfig) -> Accelerator:
    """An Accelerator for this config. accelerate keeps one process-wide state; a later run in the same
    process with other settings (precision, CPU) resets it first (runs never overlap: one job at a time)."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    try:
        return Accelerator(mixed_precision=config.mixed_precision, cpu=config.cpu)
    except ValueError as exc:
        if "already been initialized" not in str(exc):
            raise
        AcceleratorState._reset_state(reset_partial_state=True)
        return Accelerator(mixed_precision=config.mixed_precision, cpu=config.cpu)


def checkpoints_in(folder: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints (those with a progress file) under folder, oldest first."""
    found = []
    if folder.is_dir():
        for path in folder.iterdir():
            if path.name.startswith(STEP_PREFIX) and (path / PROGRESS_FILE).is_file():
                found.append((int(json.loads((path / PROGRESS_FILE).read_text(encoding="utf-8"))["step"]), path))
    return sorted(found)


def _mean(values: list[torch.Tensor]) -> float:
    import torch

    return float(torch.stack(values).mean())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Trainer:
    """Trains every parameter of `modules` that requires grad. lr_scales: per-module learning-rate factors."""

    def __init__(self, work_dir: Path | str, modules: dict[str, torch.nn.Module], config: TrainConfig,
                 lr_scales: dict[str, float] | None = None) -> None:
        import torch

        config.validate()
        self.config = config
        self.work_dir = Path(work_dir)
        self.checkpoint_dir = self.work_dir / "checkpoints"
        self.accelerator = make_accelerator(config)
        self.device = self.accelerator.device
        scales = lr_scales or {}
        groups = []
        self.params: list[torch.Tensor] = []
        for name, module in modules.items():
            params = [p for p in module.parameters() if p.requires_grad]
            if params:
                groups.append({"params": params, "lr": config.learning_rate * scales.get(name, 1.0)})
                self.params.extend(params)
        if not self.params:
            raise ValueError("nothing to train: no module has parameters that require grad")
        optimizer = torch.optim.AdamW(groups, lr=config.learning_rate, betas=config.adam_betas,
                                      weight_decay=config.weight_decay, fused=self.device.type == "cuda")
        prepared = self.accelerator.prepare(*modules.values(), optimizer)
        self.models: dict[str, torch.nn.Module] = dict(zip(modules, prepared[:-1], strict=True))
        self.optimizer = prepared[-1]
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer.optimizer, lr_lambda(config))
        self._base_lrs = [group["lr"] for group in groups]
        self.ema = EMA(self.params, config.ema_decay) if config.ema_decay else None
        self.accelerator.register_for_checkpointing(self.scheduler)
        if self.ema is not None:
            self.accelerator.register_for_checkpointing(self.ema)
        self.step = 0
        self.time_fit = TimeFit()  # learning-rate cycles fitted to the time of earlier and this run
        self.clock: Callable[[], float] = time.monotonic  # what deadlines are measured against

    def _set_schedule(self) -> None:
        """The scheduler follows this config with the fitted cycles, from the current step on."""
        factor = lr_lambda(time_fit.schedule_config(self.config, self.time_fit))
        self.scheduler.lr_lambdas = [factor] * len(self.scheduler.optimizer.param_groups)
        self.scheduler.base_lrs = list(self._base_lrs)
        for group, base in zip(self.scheduler.optimizer.param_groups, self._base_lrs, strict=True):
            group["lr"] = base * factor(self.step)

    # --- checkpoints -------------------------------------------------------------------------------
    def resume(self) -> int:
        """Load the newest complete checkpoint in the work dir, if any; returns the step it reached."""
        found = checkpoints_in(self.checkpoint_dir)
        if not found:
            return self.step
        step, path = found[-1]
        self.accelerator.load_state(str(path))
        self.step = step
        saved = json.loads((path / PROGRESS_FILE).read_text(encoding="utf-8")).get("time_fit")
        self.time_fit = time_fit.after_resume(TimeFit.from_dict(saved), step, self.config)
        # the checkpoint holds the lr its own run set for this step; a run given other steps, restarts or
        # lr goes on with the schedule of its own config (and the cycles fitted so far) from here
        self._set_schedule()
        log.info("resumed from %s (step %d)", path, step)
        return step

    def save_checkpoint(self) -> Path:
        """Write a checkpoint of the current step atomically; older ones beyond keep_checkpoints go."""
        final = self.checkpoint_dir / f"{STEP_PREFIX}{self.step:08d}"
        tmp = self.checkpoint_dir / f".tmp-{final.name}"
        if tmp.exists():
            shutil.rmtree(tmp)
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        self.accelerator.save_state(str(tmp))
        progress = {"step": self.step, "time": time.time(), "config": self.config.to_dict(),
                    "time_fit": self.time_fit.to_dict()}
        with open(tmp / PROGRESS_FILE, "w", encoding="utf-8") as f:
            json.dump(progress, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        _fsync_dir(self.checkpoint_dir)
        for _, old in checkpoints_in(self.checkpoint_dir)[: -self.config.keep_checkpoints]:
            shutil.rmtree(old, ignore_errors=True)
        log.info("checkpoint saved: %s", final)
        return final

    @contextmanager
    def ema_weights(self) -> Iterator[None]:
        """Inside the block the modules hold the EMA weights (no-op without EMA)."""
        import torch

        if self.ema is None:
            yield
            return
        backup = [p.detach().clone() for p in self.params]
        with torch.no_grad():
            for p, s in zip(self.params, self.ema.shadow, strict=True):
                p.copy_(s)
        try:
            yield
        finally:
            with torch.no_grad():
                for p, b in zip(self.params, backup, strict=True):
                    p.copy_(b)

    # --- training ----------------------------------------------------------------------------------
    def _generator(self, micro_step: int) -> torch.Generator:
        import torch

        return torch.Generator(self.device).manual_seed(self.config.seed * 1_000_003 + micro_step + 1)

    def run(self, loss_fn: LossFn, stop: Callable[[], bool] | None = None, deadline: float | None = None,
            on_log: Callable[[int, dict[str, float]], None] | None = None) -> TrainResult:
        """Train until config.steps, or until stop() is true / time.monotonic() passes deadline (then a
        checkpoint is written and finished is False). With config.fit_to_time and a deadline, the current
        learning-rate cycle is fitted to the time left once its warm-up is done, and the run ends where
        that cycle ends (finished is False while steps are left: a later run begins a new cycle).
        on_log(step, metrics) gets loss, lr and steps/s."""
        config, acc = self.config, self.accelerator
        for module in self.models.values():
            module.train()
        accum = config.gradient_accumulation
        window: list[torch.Tensor] = []  # losses stay on the device: no sync per step
        last_loss: float | None = None
        last_saved: Path | None = None
        started, started_step = self.clock(), self.step
        timed_from: tuple[float, int] | None = None  # (time, step) after the first steps (slow: set-up, autotune)
        fitted_at: tuple[float, int] | None = None  # (time, step) this run fitted its cycle, until the end's check
        while self.step < time_fit.last_step(config, self.time_fit):
            total: torch.Tensor | float = 0.0
            for index in range(accum):
                micro = self.step * accum + index
                ctx = StepContext(self.step, micro, self._generator(micro), self.device)
                with ExitStack() as stack:
                    if index < accum - 1:  # gradients are only all-reduced on the last micro-batch
                        for module in self.models.values():
                            stack.enter_context(acc.no_sync(module))
                    with acc.autocast():
                        loss = loss_fn(ctx) / accum
                    acc.backward(loss)
                total = total + loss.detach().float()
            if config.max_grad_norm:
                acc.clip_grad_norm_(self.params, config.max_grad_norm)
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
            if self.ema is not None:
                self.ema.update()
            self.step += 1
            window.append(total)  # type: ignore[arg-type]
            if timed_from is None and self.step - started_step >= time_fit.SETTLE_STEPS:
                timed_from = (self.clock(), self.step)
            measured = self.step - timed_from[1] if timed_from else 0
            if timed_from and time_fit.due(config, self.time_fit, self.step, measured, deadline is not None):
                self._fit_to(deadline, measured / max(1e-9, self.clock() - timed_from[0]))  # type: ignore[arg-type]
                fitted_at = (self.clock(), self.step)
            elif fitted_at and time_fit.check_due(self.time_fit, self.step, fitted_at[1]):
                rate = (self.step - fitted_at[1]) / max(1e-9, self.clock() - fitted_at[0])
                self._check_fit(deadline, rate, fitted_at[1])  # type: ignore[arg-type]
                fitted_at = None
            end = time_fit.last_step(config, self.time_fit)
            if self.step % config.checkpoint_every == 0 or self.step == end:
                last_saved = self.save_checkpoint()  # on disk before the step is reported
            if self.step % config.log_every == 0 or self.step == end:
                last_loss = _mean(window)
                rate = (self.step - started_step) / max(1e-9, self.clock() - started)
                metrics = {"loss": last_loss, "lr": self.scheduler.get_last_lr()[0], "steps_per_s": rate}
                self._log(metrics)
                if on_log is not None:
                    on_log(self.step, metrics)
                window = []
            if self.step < end and ((stop is not None and stop()) or
                                    (deadline is not None and self.clock() >= deadline)):
                if last_saved is None or not last_saved.name.endswith(f"{self.step:08d}"):
                    last_saved = self.save_checkpoint()
                log.info("stopped at step %d of %d; run again to resume", self.step, config.steps)
                return TrainResult(self.step, False, _mean(window) if window else last_loss, last_saved)
        if window:
            last_loss = _mean(window)
        found = checkpoints_in(self.checkpoint_dir)
        finished = self.step >= config.steps
        if not finished:
            log.info("the fitted learning-rate cycle ended at step %d of %d; run again for another", self.step,
                     config.steps)
        return TrainResult(self.step, finished, last_loss, last_saved or (found[-1][1] if found else None))

    def _fit_to(self, deadline: float, steps_per_s: float) -> None:
        seconds_left = deadline - self.clock()
        end = time_fit.fitted_end(self.step, steps_per_s, seconds_left, self.config.steps)
        self.time_fit = replace(self.time_fit, end=end)
        self._set_schedule()
        log.info("learning-rate cycle fitted to the time left (%.0f s at %.2f steps/s): it ends at step %d",
                 seconds_left, steps_per_s, end)

    def _check_fit(self, deadline: float, steps_per_s: float, fitted_at: int) -> None:
        old, seconds_left = self.time_fit.end, deadline - self.clock()
        if old is None:
            return
        end = time_fit.checked_end(old, fitted_at, self.step, steps_per_s, seconds_left, self.config.steps)
        if end == old:
            log.info("learning-rate cycle checked at %.2f steps/s: it still ends at step %d", steps_per_s, end)
            return
        self.time_fit = replace(self.time_fit, end=end)
        self._set_schedule()
        log.info("learning-rate cycle fitted again to the time left (%.0f s at %.2f steps/s): it ends at step %d, "
                 "not %d", seconds_left, steps_per_s, end, old)

    def _log(self, metrics: dict[str, float]) -> None:
        log.info("step %d/%d loss %.5f lr %.2e %.2f steps/s", self.step, self.config.steps, metrics["loss"],
                 metrics["lr"], metrics["steps_per_s"])
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with open(self.work_dir / "log.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps({"step": self.step, **metrics}) + "\n")
