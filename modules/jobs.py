"""One worker at a time for GPU work, with progress, Interrupt and Skip shared by every front door."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from modules.messages import msg

T = TypeVar("T")


@dataclass
class Progress:
    """What the running job reports; read by the UI and API while the job runs."""

    job: str = ""
    active: bool = False
    step: int = 0  # steps done in the current image batch
    total_steps: int = 0  # steps per image batch
    batch: int = 0  # batches finished
    batches: int = 0
    images_per_batch: int = 1
    started: float = 0.0
    interrupted: bool = False
    skipped: bool = False
    preview: object | None = None  # latest preview image, if any
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def fraction(self) -> float:
        if not self.batches or not self.total_steps:
            return 0.0
        return min(1.0, (self.batch + self.step / self.total_steps) / self.batches)

    def elapsed(self) -> float:
        return time.monotonic() - self.started if self.started else 0.0

    def eta(self) -> float:
        f = self.fraction()
        return self.elapsed() * (1 - f) / f if f > 0 else 0.0

    def text(self) -> str:
        total_images = self.batches * self.images_per_batch
        return msg("progress", step=self.step, total=self.total_steps,
                   image=min(self.batch * self.images_per_batch + 1, total_images), images=total_images,
                   elapsed=self.elapsed(), eta=self.eta())


class JobQueue:
    """Serialises generation work. run() blocks until earlier jobs finish."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.progress = Progress()

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def run(self, job: str, fn: Callable[[Progress], T]) -> T:
        with self._lock:
            self.progress = Progress(job=job, active=True, started=time.monotonic())
            try:
                return fn(self.progress)
            finally:
                self.progress.active = False

    def interrupt(self) -> None:
        """Stop the running job after the current step; finished images are kept."""
        self.progress.interrupted = True

    def skip(self) -> None:
        """Stop the current image batch and go on with the next one."""
        self.progress.skipped = True
