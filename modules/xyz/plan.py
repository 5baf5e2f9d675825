"""An X/Y/Z plot's plan: its three axes with their checked values, and one GenerationRequest per cell.

    args = XyzArgs.from_args(script_args)          # A1111's 18 positional arguments (plot.ARGS), checked
    plan = build_plan(app, request, args)          # InvalidParams naming what is wrong, before anything runs

build_plan does every check up front (as every value check: a bad axis value, a request a cell would
fail on, a grid over the size limit), so a plot never stops half-way because of its input. Seeds follow
A1111: unless "Keep -1 for seeds", a random base seed (and variation seed) is drawn once and -1 in a
Seed / Var. seed axis becomes a random number (the grid's infotext records them: Fixed X Values).
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams
from modules.generation.params import MAX_SEED
from modules.messages import msg
from modules.xyz.order import cell_index, run_order, varied_seed

if TYPE_CHECKING:
    from modules.app import App
    from modules.generation.request import GenerationRequest
    from modules.xyz.axes import AxisSpec

SEED_AXES = ("Seed", "Var. seed")
NOTHING = "Nothing"
MAX_CELLS = 10_000  # the grid-size limit comes first for images; this bounds the work of checking cells


@dataclass(frozen=True)
class AxisChoice:
    """One axis as the script's arguments give it: its type label, the values text and the dropdown's values."""

    label: str
    text: str = ""
    dropdown: str = ""  # the multi-select's values as CSV text (api_args / the UI join the list)


@dataclass(frozen=True)
class XyzArgs:
    """The script's arguments by name (A1111's order in plot.ARGS)."""

    axes: tuple[AxisChoice, AxisChoice, AxisChoice]
    draw_legend: bool = True
    include_sub_images: bool = False
    include_sub_grids: bool = False
    keep_random_seeds: bool = False  # A1111's "Keep -1 for seeds" (no_fixed_seeds)
    vary_seeds: tuple[bool, bool, bool] = (False, False, False)
    margin: int = 0
    csv_mode: bool = False  # "Use text inputs instead of dropdowns"

    @classmethod
    def from_args(cls, args: list[Any] | tuple[Any, ...]) -> XyzArgs:
        a = list(args)
        axes = tuple(AxisChoice(str(a[i] or NOTHING), str(a[i + 1] or ""), str(a[i + 2] or "")) for i in (0, 3, 6))
        return cls(axes=axes, draw_legend=bool(a[9]), include_sub_images=bool(a[10]),  # type: ignore[arg-type]
                   include_sub_grids=bool(a[11]), keep_random_seeds=bool(a[12]),
                   vary_seeds=(bool(a[13]), bool(a[14]), bool(a[15])), margin=int(a[16] or 0), csv_mode=bool(a[17]))


@dataclass(frozen=True)
class PlanAxis:
    spec: AxisSpec
    text: str  # the values as written (the infotext's X Values)
    values: tuple[Any, ...]  # parsed, checked, seeds fixed
    fixed: bool = False  # a seed axis whose -1s were drawn (the infotext's Fixed X Values)

    @property
    def label(self) -> str:
        return self.spec.label

    def legend(self) -> list[str]:
        return [self.spec.legend(value) for value in self.values]


@dataclass(frozen=True)
class Cell:
    ix: int
    iy: int
    iz: int
    index: int  # ix + iy*nx + iz*nx*ny
    request: GenerationRequest


@dataclass(frozen=True)
class Plan:
    axes: tuple[PlanAxis, PlanAxis, PlanAxis]
    args: XyzArgs
    cells: tuple[Cell, ...]  # in the order they run (costliest axis outer)
    cell_size: tuple[int, int]  # the largest cell image (width, height) the plot expects

    @property
    def sizes(self) -> tuple[int, int, int]:
        return len(self.axes[0].values), len(self.axes[1].values), len(self.axes[2].values)


def list_to_csv(values: list[Any] | tuple[Any, ...]) -> str:
    """A dropdown's values as one CSV line (quoted where a value holds a comma), as A1111 writes them."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([str(v) for v in values])
    return buffer.getvalue()


def axis_text(spec: AxisSpec, choice: AxisChoice, csv_mode: bool) -> str:
    """The values text of an axis: a choice axis's dropdown values unless text inputs are used (or the
    dropdown is empty: API callers often send only the text)."""
    if spec.choices is not None and not csv_mode and choice.dropdown.strip():
        return choice.dropdown
    return choice.text


def _axis(app: App, request: GenerationRequest, choice: AxisChoice, args: XyzArgs) -> PlanAxis:
    from modules.xyz.axes import check_axis_values, find_axis
    from modules.xyz.values import parse_values

    spec = find_axis(app, request.kind, choice.label)
    text = axis_text(spec, choice, args.csv_mode)
    values = check_axis_values(app, spec, request, list(parse_values(spec, text)))  # canonical choice names
    fixed = False
    if spec.label in SEED_AXES and not args.keep_random_seeds:
        fixed = any(v in (None, "", -1) for v in values)
        values = [random.randint(0, MAX_SEED) if v in (None, "", -1) else v for v in values]
    return PlanAxis(spec, text, tuple(values), fixed)


def fixed_seeds(request: GenerationRequest, keep_random: bool) -> GenerationRequest:
    """The request with a -1 seed and variation seed drawn once (A1111's fix_seed), unless keep_random."""
    params = request.params
    if keep_random:
        return request
    seed = random.randint(0, MAX_SEED) if params.seed == -1 else params.seed
    subseed = random.randint(0, MAX_SEED) if params.subseed == -1 else params.subseed
    return replace(request, params=replace(params, seed=seed, subseed=subseed))


def cell_request(base: GenerationRequest, axes: tuple[PlanAxis, PlanAxis, PlanAxis], at: tuple[int, int, int],
                 args: XyzArgs) -> GenerationRequest:
    """base with the X, Y and Z values of the cell at (ix, iy, iz) applied (in that order), then the varied
    seed; the fields an axis changed count as the caller's own (an infotext never overrides them)."""
    request = base
    for axis, i in zip(axes, at, strict=True):
        request = axis.spec.apply(request, axis.values[i])
    sizes = (len(axes[0].values), len(axes[1].values), len(axes[2].values))
    seed = varied_seed(request.params.seed, at, sizes, args.vary_seeds)
    params = replace(request.params, seed=seed)
    changed = {f.name for f in fields(params) if getattr(params, f.name) != getattr(base.params, f.name)}
    sized = bool({"width", "height"} & changed)
    return replace(request, params=params, explicit=request.explicit | changed,
                   size_from_model=request.size_from_model and not sized)


def build_plan(app: App, request: GenerationRequest, args: XyzArgs) -> Plan:
    """The checked plan of a plot over request (see the module doc); InvalidParams naming what is wrong."""
    from modules.xyz.grid_image import GridLegend, check_grid_size

    request = fixed_seeds(request, args.keep_random_seeds)
    axes = tuple(_axis(app, request, choice, args) for choice in args.axes)
    nx, ny, nz = (len(a.values) for a in axes)
    if nx * ny * nz > MAX_CELLS:
        raise InvalidParams(msg("xyz_too_many_cells", count=nx * ny * nz, most=MAX_CELLS))
    order = run_order((nx, ny, nz), tuple(a.spec.cost for a in axes))  # type: ignore[arg-type]
    cells = tuple(Cell(ix, iy, iz, cell_index(ix, iy, iz, nx, ny), cell_request(request, axes, (ix, iy, iz), args))
                  for ix, iy, iz in order)  # type: ignore[arg-type]
    width, height = max_cell_size(app, cells)
    legend = GridLegend(axes[0].legend(), axes[1].legend(), axes[2].legend()) if args.draw_legend else None
    check_grid_size(width, height, nx, ny, nz, legend, args.margin)
    check_cells(app, cells)
    return Plan(axes, args, cells, (width, height))  # type: ignore[arg-type]


def max_cell_size(app: App, cells: tuple[Cell, ...]) -> tuple[int, int]:
    """The largest image a cell will give: its size (the checkpoint's declared size when the request names
    none), after the hires fix, tiled when a cell draws several images (its batch grid)."""
    from modules.generation.grid import grid_shape

    declared: dict[str | None, tuple[int, int] | None] = {}
    width = height = 0
    for cell in cells:
        r = cell.request
        w, h = r.params.width, r.params.height
        if r.size_from_model:
            if r.checkpoint not in declared:
                declared[r.checkpoint] = _declared_size(app, r.checkpoint)
            w, h = declared[r.checkpoint] or (w, h)
        if getattr(r.params, "enable_hr", False):
            from modules.generation.hires import hires_size

            w, h = hires_size(replace(r.params, width=w, height=h))
        count = r.params.batch_size * r.params.batch_count
        rows, cols = grid_shape(count) if count > 1 else (1, 1)
        width, height = max(width, w * cols), max(height, h * rows)
    return width, height


def _declared_size(app: App, checkpoint: str | None) -> tuple[int, int] | None:
    """The size a checkpoint declares (the loaded one's for None), read from its file's metadata."""
    from modules.generation.params import Txt2ImgParams
    from modules.generation.resolve import Resolved, size_it_would_have

    probe = Resolved(Txt2ImgParams(width=0, height=0), {}, checkpoint, None, True)
    try:
        params = size_it_would_have(app, probe)
    except InvalidParams:
        return None
    return (params.width, params.height) if params.width else None


def check_cells(app: App, cells: tuple[Cell, ...]) -> None:
    """Every cell's request through the request rules (resolve), so a value no single axis check catches
    (Steps with another axis, a style) fails now; the first failure names the cell's values."""
    from modules.errors import UserError
    from modules.generation.resolve import resolve

    for cell in cells:
        try:
            resolve(app, cell.request)
        except UserError as e:
            raise InvalidParams(msg("xyz_cell_error", x=cell.ix + 1, y=cell.iy + 1, z=cell.iz + 1, error=str(e))) \
                from None
