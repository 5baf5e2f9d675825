"""The one GPU queue: jobs from every front door (UI, API, CLI) run one at a time, first come first served.

    job = app.jobs.submit("txt2img", fn, owner="ui:<session>")   # returns at once; fn(progress) runs later
    app.jobs.position(job)                                        # jobs ahead of it (0 = running or done)
    job.progress                                                  # this job's own step count, ETA, preview
    job.result()                                                  # waits; returns fn's value or raises its error
    job.take()                                                    # the same, handing the value over (job forgets it)
    app.jobs.interrupt(owner="ui:<session>")                      # stops that owner's jobs only

Each job has an id, an owner and its own Progress with its own Interrupt and Skip flags, so one user's
Interrupt never touches another user's job. A job interrupted while it still waits leaves the queue at
once (its result() raises JobCancelled). A failing job stores its error and the worker goes on with
the next one, so an error never blocks the queue. The worker thread starts with the first job and
ends when the queue is empty.

Finished jobs stay listed (FINISHED_KEPT) for progress look-ups by id. A waiter whose value holds big
data (the API's images) takes it with take() or gives it up with release(), so the listed job keeps
only its id, state and progress.
"""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from modules.errors import InvalidParams, JobCancelled
from modules.messages import msg

T = TypeVar("T")

JobState = Literal["queued", "running", "done", "failed", "cancelled"]
FINISHED_KEPT = 64  # finished jobs remembered for progress look-ups by id
MAX_JOB_ID = 64
PREVIEW_INTEREST_S = 5.0  # a job keeps drawing previews this long after the last request for one


@dataclass
class Progress:
    """What one job reports while it runs; read by the UI and API."""

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
    latents: Any = None  # the newest latents of the running batch (for live previews), None when done
    latents_step: int = 0  # the step those latents belong to
    preview_step: int = -1  # the step the preview image was drawn from
    _model: Any = field(default=None, repr=False)  # weakref to the model the latents belong to
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # set by the generation: draws a preview on the job's own thread when one is due and wanted
    preview_painter: Callable[[], None] | None = field(default=None, repr=False)
    _preview_asked: float = field(default=0.0, repr=False)  # monotonic time of the last request

    def publish_latents(self, latents: Any, model: Any) -> None:
        """Called by the denoising loop after each step: keeps a reference (no copy, no decode), then
        lets the preview painter draw if someone has asked for a preview lately."""
        with self._lock:
            self.latents = latents
            self.latents_step = self.batch * max(1, self.total_steps) + self.step
            self._model = weakref.ref(model)
            painter = self.preview_painter
        if painter is not None and self.preview_wanted():
            painter()

    def ask_for_preview(self) -> None:
        """A client (UI or API) wants previews: the job draws them on its own thread from now on."""
        self._preview_asked = time.monotonic()

    def preview_wanted(self, window: float = PREVIEW_INTEREST_S) -> bool:
        return time.monotonic() - self._preview_asked < window

    def preview_source(self) -> tuple[Any, Any, int] | None:
        """(latents, model, step) of the newest step, or None when no batch is sampling (or its model is gone)."""
        with self._lock:
            model = self._model() if self._model is not None else None
            if self.latents is None or model is None:
                return None
            return self.latents, model, self.latents_step

    def store_preview(self, image: object, step: int) -> None:
        with self._lock:
            self.preview = image
            self.preview_step = step

    def release_latents(self) -> None:
        """Drop the references to the latents, the model and the painter (the job ended)."""
        with self._lock:
            self.latents = None
            self._model = None
            self.preview_painter = None

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


class Job(Generic[T]):
    """One unit of GPU work. Created by JobQueue.submit; fn(progress) runs on the queue's worker."""

    def __init__(self, job_id: str, name: str, owner: str, fn: Callable[[Progress], T]) -> None:
        self.id = job_id
        self.name = name
        self.owner = owner
        self.progress = Progress(job=name)
        self.state: JobState = "queued"
        self.submitted = time.time()
        self._fn = fn
        self._done = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None
        self._hand_off = threading.Lock()
        self._unwanted = False  # release() was called: the value is dropped when the job ends
        self._taken = False

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the job has finished (done, failed or cancelled)."""
        return self._done.wait(timeout)

    def result(self, timeout: float | None = None) -> T:
        """fn's return value; re-raises fn's error (JobCancelled when it was cancelled while waiting)."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"job {self.id} is still {self.state}")
        if self._taken:
            raise RuntimeError(f"the result of job {self.id} was already taken")
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def take(self, timeout: float | None = None) -> T:
        """result(), handed over: the job keeps no reference to the value or error afterwards (once only)."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"job {self.id} is still {self.state}")
        with self._hand_off:
            if self._taken:
                raise RuntimeError(f"the result of job {self.id} was already taken")
            value, error = self._value, self._error
            self._value = self._error = None
            self._taken = True
        if error is not None:
            try:
                raise error
            finally:
                del error  # the traceback (and the frames' data) lives only as long as the raised error
        return value  # type: ignore[return-value]

    def release(self) -> None:
        """Nobody will ask for the value (the waiter went away): drop it now, or when the job ends."""
        with self._hand_off:
            self._unwanted = True
            if self.done:
                self._value = self._error = None
                self._taken = True

    def _settle(self) -> None:
        """End of the job (value or error stored): drop them at once if release() came first."""
        with self._hand_off:
            if self._unwanted:
                self._value = self._error = None
                self._taken = True
            self._done.set()

    def _run(self) -> None:
        self.state = "running"
        self.progress.started = time.monotonic()
        self.progress.active = True
        try:
            self._value = self._fn(self.progress)
            self.state = "done"
        except BaseException as e:  # noqa: BLE001 - stored for the waiter; the worker must go on
            self._error = e
            self.state = "failed"
        finally:
            self.progress.active = False
            self.progress.release_latents()
            self._fn = None  # type: ignore[assignment]  # drop references to request data
            self._settle()

    def _cancel(self) -> None:
        self.state = "cancelled"
        self.progress.interrupted = True
        self._error = JobCancelled(msg("job_cancelled"))
        self._fn = None  # type: ignore[assignment]
        self._settle()


class JobQueue:
    """FIFO of jobs and the single worker thread that runs them."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._waiting: deque[Job[Any]] = deque()
        self._running: Job[Any] | None = None
        self._finished: deque[Job[Any]] = deque(maxlen=FINISHED_KEPT)
        self._worker: threading.Thread | None = None
        self._idle_progress = Progress()

    # -- submitting and waiting -------------------------------------------------------------------

    def submit(self, name: str, fn: Callable[[Progress], T], owner: str = "", job_id: str | None = None) -> Job[T]:
        """Queue fn; returns its Job at once. job_id must be unique among unfinished jobs."""
        with self._cond:
            if job_id is None:
                job_id = uuid.uuid4().hex
            elif not job_id or len(job_id) > MAX_JOB_ID or any(j.id == job_id for j in self._active()):
                raise InvalidParams(msg("bad_task_id", value=job_id[:MAX_JOB_ID]))
            job: Job[T] = Job(job_id, name, owner, fn)
            self._waiting.append(job)
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="job-worker", daemon=True)
                self._worker.start()
            return job

    def run(self, name: str, fn: Callable[[Progress], T], owner: str = "") -> T:
        """Submit and wait: fn's value, or its error raised here."""
        return self.submit(name, fn, owner).result()

    def _work(self) -> None:
        while True:
            with self._cond:
                if not self._waiting:
                    self._running = None
                    self._worker = None
                    self._cond.notify_all()
                    return
                job = self._waiting.popleft()
                self._running = job
            job._run()
            with self._cond:
                self._running = None
                self._finished.append(job)
                self._cond.notify_all()

    # -- looking at jobs ----------------------------------------------------------------------------

    def _active(self) -> list[Job[Any]]:
        return ([self._running] if self._running is not None else []) + list(self._waiting)

    def jobs(self, owner: str | None = None) -> list[Job[Any]]:
        """Unfinished jobs in the order they will run (the running one first), optionally of one owner."""
        with self._cond:
            return [j for j in self._active() if owner is None or j.owner == owner]

    def get(self, job_id: str) -> Job[Any] | None:
        """An unfinished or recently finished job by id."""
        with self._cond:
            for job in [*self._active(), *reversed(self._finished)]:
                if job.id == job_id:
                    return job
        return None

    def latest(self, owner: str) -> Job[Any] | None:
        """owner's running job, else their first waiting one, else their most recently finished one."""
        with self._cond:
            for job in [*self._active(), *reversed(self._finished)]:
                if job.owner == owner:
                    return job
        return None

    def position(self, job: Job[Any]) -> int:
        """How many jobs run before this one: 0 when it is running or finished."""
        with self._cond:
            if job.state != "queued" or job not in self._waiting:
                return 0
            return self._waiting.index(job) + (1 if self._running is not None else 0)

    @property
    def current(self) -> Job[Any] | None:
        return self._running

    @property
    def busy(self) -> bool:
        """True while any job runs or waits."""
        with self._cond:
            return self._running is not None or bool(self._waiting)

    @property
    def progress(self) -> Progress:
        """The running job's progress, else the last finished job's (an idle Progress at first)."""
        with self._cond:
            if self._running is not None:
                return self._running.progress
            return self._finished[-1].progress if self._finished else self._idle_progress

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job runs or waits (for shutdown and tests)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._running is None and not self._waiting, timeout)

    # -- Interrupt and Skip -------------------------------------------------------------------------

    def _targets(self, job_id: str | None, owner: str | None) -> list[Job[Any]]:
        if job_id is not None:
            return [j for j in self._active() if j.id == job_id and (owner is None or j.owner == owner)]
        if owner is not None:
            return [j for j in self._active() if j.owner == owner]
        return [self._running] if self._running is not None else []

    def interrupt(self, job_id: str | None = None, owner: str | None = None) -> int:
        """Stop jobs after their current step (finished images are kept); returns how many were hit.

        job_id: that job (only if it belongs to owner, when owner is given); owner alone: all of that
        owner's running and waiting jobs; neither: the running job, whoever it belongs to (local use).
        Waiting jobs leave the queue at once.
        """
        with self._cond:
            targets = self._targets(job_id, owner)
            for job in targets:
                if job.state == "queued":
                    self._waiting.remove(job)
                    job._cancel()
                    self._finished.append(job)
                else:
                    job.progress.interrupted = True
            self._cond.notify_all()
            return len(targets)

    def skip(self, job_id: str | None = None, owner: str | None = None) -> int:
        """Drop the current image batch of the running job (chosen as for interrupt) and go on."""
        with self._cond:
            targets = [j for j in self._targets(job_id, owner) if j.state == "running"]
            for job in targets:
                job.progress.skipped = True
            return len(targets)
