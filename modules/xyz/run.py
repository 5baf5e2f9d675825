"""Running an X/Y/Z plan in the job: each cell drawn like any generation, the grid made and saved.

    result = run_plan(app, request, plan, progress)    # GenerationResult: grid first, then the cells

Cells run in the plan's order (costliest axis outer); a cell whose request names a checkpoint loads it
first (no-op when it is loaded) and the checkpoint the job started with is put back at the end. The
job's progress counts images over the whole plot (image 4 of 9 = cell 4 of 9, times its batch) and keeps
its live preview. Interrupt lets the running cell finish, then no other starts: the grid holds the cells
drawn and blanks for the rest, and is still saved. Skip drops the running cell (all its batches): it is
blank and the plot goes on. A cell that fails to load its checkpoint is blank too, and the message says why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from modules.errors import UserError

if TYPE_CHECKING:
    from PIL import Image

    from modules.app import App
    from modules.generation.pipeline import GenerationResult
    from modules.generation.request import GenerationRequest
    from modules.jobs import Progress
    from modules.xyz.plan import Cell, Plan

log = logging.getLogger(__name__)


class CellProgress:
    """The job's Progress as one cell's generation sees it: its batch counts land on the whole plot's scale,
    Interrupt is held back until the cell ends, and a Skip drops every remaining batch of the cell."""

    def __init__(self, job: Progress, cells: int) -> None:
        object.__setattr__(self, "_job", job)
        object.__setattr__(self, "_cells", max(1, cells))
        object.__setattr__(self, "_done", 0)  # cells finished before this one
        object.__setattr__(self, "_batches", 1)  # the running cell's batch count
        object.__setattr__(self, "cell_skipped", False)

    def start_cell(self, done: int) -> None:
        object.__setattr__(self, "_done", done)
        object.__setattr__(self, "cell_skipped", False)
        self._job.skipped = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    def __setattr__(self, name: str, value: Any) -> None:
        job = self._job
        if name == "batches":
            object.__setattr__(self, "_batches", max(1, int(value)))
            job.batches = self._cells * self._batches
        elif name == "batch":
            job.batch = self._done * self._batches + int(value)
        elif name == "skipped":
            if not self.cell_skipped:
                job.skipped = value
        else:
            setattr(job, name, value)

    @property
    def interrupted(self) -> bool:  # the running cell always finishes (see the module doc)
        return False

    @property
    def skipped(self) -> bool:
        if self._job.skipped:
            object.__setattr__(self, "cell_skipped", True)
        return self.cell_skipped

    @property
    def batch(self) -> int:
        return self._job.batch - self._done * self._batches

    @property
    def batches(self) -> int:
        return self._batches


@dataclass
class CellResult:
    cell: Cell
    image: Image.Image | None = None  # the cell's picture: its first image, or its batch grid
    images: list[Image.Image] = field(default_factory=list)
    paths: list[Any] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    subseeds: list[int] = field(default_factory=list)
    infotexts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: bool = False
    error: str = ""
    seconds: float = 0.0


def run_plan(app: App, request: GenerationRequest, plan: Plan, progress: Progress) -> GenerationResult:
    """Draw every cell of plan (request: the plot's request, without the script), then the grid."""
    import time

    from modules.scripts.base import generate_now
    from modules.xyz.result import plot_result

    started = datetime.now()
    previous = app.models.current_info
    proxy = CellProgress(progress, len(plan.cells))
    results: list[CellResult] = []
    try:
        for done, cell in enumerate(plan.cells):
            if progress.interrupted:
                break
            proxy.start_cell(done)
            begun = time.monotonic()
            outcome = CellResult(cell)
            try:
                if cell.request.checkpoint:
                    app.models.load(cell.request.checkpoint)
                sub = replace(cell.request, save_grid=False)
                drawn = generate_now(app, sub, cast("Progress", proxy)).result
            except UserError as e:  # checked up front; a checkpoint that fails to load is the likely one
                log.warning("X/Y/Z cell %s: %s", cell.index, e)
                outcome.error = str(e)
                results.append(outcome)
                continue
            outcome.images, outcome.paths = list(drawn.images), list(drawn.paths)
            outcome.seeds, outcome.infotexts = list(drawn.seeds), list(drawn.infotexts)
            outcome.warnings = list(drawn.warnings)
            outcome.subseeds = list(drawn.subseeds)
            outcome.image = drawn.images[0] if len(drawn.images) == 1 else drawn.grid
            outcome.skipped = proxy.cell_skipped and not drawn.images
            outcome.seconds = time.monotonic() - begun
            results.append(outcome)
    finally:
        progress.skipped = False
        _put_back(app, previous)
    return plot_result(app, request, plan, results, progress.interrupted, started)


def _put_back(app: App, previous: Any) -> None:
    """The checkpoint the plot started with, loaded again after a Checkpoint name axis (A1111)."""
    if previous is None or app.models.current_info == previous:
        return
    try:
        app.models.load(previous.title)
    except Exception:  # noqa: BLE001 - the plot is done; the last model stays loaded
        log.exception("could not put checkpoint %s back after the X/Y/Z plot", previous.title)
