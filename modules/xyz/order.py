"""The order an X/Y/Z plot runs its cells in, and each cell's seed: pure functions, no App.

Cells are indexed as A1111 does (ix + iy*nx + iz*nx*ny) whatever order they run in. The costliest axis
(Checkpoint name 1.0, VAE 0.7, others 0: AxisSpec.cost) is the outer loop, so checkpoints and VAEs switch
as seldom as possible; between axes of equal cost A1111's default nesting stays: Z outer, then Y, X inner.
"""

from __future__ import annotations

from itertools import product

AXES = ("x", "y", "z")


def loop_order(costs: tuple[float, float, float]) -> tuple[str, str, str]:
    """The axes from the outer loop to the inner one, for the (x, y, z) costs: by cost, highest first;
    ties keep z before y before x (A1111's default)."""
    default = ("z", "y", "x")
    by_axis = dict(zip(AXES, costs, strict=True))
    return tuple(sorted(default, key=lambda axis: -by_axis[axis]))  # type: ignore[return-value]


def cell_index(ix: int, iy: int, iz: int, nx: int, ny: int) -> int:
    """A cell's place in the grid (A1111's index: X fastest, then Y, then Z)."""
    return ix + iy * nx + iz * nx * ny


def run_order(sizes: tuple[int, int, int], costs: tuple[float, float, float]) -> list[tuple[int, int, int]]:
    """Every (ix, iy, iz) in the order the cells run: the loop order of the costs over axes of sizes (nx, ny, nz)."""
    outer_to_inner = loop_order(costs)
    size_of = dict(zip(AXES, sizes, strict=True))
    cells = []
    for combo in product(*(range(size_of[axis]) for axis in outer_to_inner)):
        at = dict(zip(outer_to_inner, combo, strict=True))
        cells.append((at["x"], at["y"], at["z"]))
    return cells


def switches(values_in_run_order: list[object]) -> int:
    """How often a value changes from one cell to the next (the first value counts as one switch)."""
    count, last = 0, object()
    for value in values_in_run_order:
        if value != last:
            count += 1
            last = value
    return count


def varied_seed(seed: int, index: tuple[int, int, int], sizes: tuple[int, int, int],
                vary: tuple[bool, bool, bool]) -> int:
    """A cell's seed with "Vary seeds for X/Y/Z" (A1111's rule): + ix when X varies; + iy times the number of
    X values when X varies too (else + iy); + iz times the X and Y dimensions that vary. -1 stays -1 (each
    cell then draws its own random seed: "Keep -1 for seeds")."""
    if seed == -1:
        return seed
    (ix, iy, iz), (nx, ny, _nz) = index, sizes
    xdim = nx if vary[0] else 1
    ydim = ny if vary[1] else 1
    if vary[0]:
        seed += ix
    if vary[1]:
        seed += iy * xdim
    if vary[2]:
        seed += iz * xdim * ydim
    return seed
