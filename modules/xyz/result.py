"""An X/Y/Z plot's answer: the grid (drawn by grid_image.py), its infotext, the files saved, and the list of
images a front door shows.

The result lists the main grid first, then a sub-grid per Z value (with "Include Sub Grids" and more than
one Z value), then every cell's own images, each with its own path, seed and infotext, so a cell can be
opened in the gallery and sent to img2img like any image. Beyond A1111 the cells are always listed
("Include Sub Images" is then always on). Saved (when grids are saved): outputs/<kind>-grids/<date>/
xyz_grid-NNNN-<seed>.<ext> (A1111's name) with the grid's infotext, its sub-grids (-z1, -z2, ...) when
asked, and beside it <same name>.csv and .json: cell -> its axis values and parameters -> its files.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams
from modules.messages import msg

if TYPE_CHECKING:
    from PIL import Image

    from modules.app import App
    from modules.generation.pipeline import GenerationResult
    from modules.generation.request import GenerationRequest
    from modules.xyz.plan import Plan
    from modules.xyz.run import CellResult

PREFIX = "xyz_grid-"
DIGITS = 4
AXIS_NAMES = ("X", "Y", "Z")


@dataclass(frozen=True)
class SavedGrid:
    grid: Path
    sub_grids: list[Path]
    table: Path  # .csv
    details: Path  # .json


def plot_result(app: App, request: GenerationRequest, plan: Plan, cells: list[CellResult], interrupted: bool,
                started: datetime) -> GenerationResult:
    """The GenerationResult of a plot whose cells (in run order) were drawn (see the module doc)."""
    from modules.generation.pipeline import GenerationResult
    from modules.xyz.grid_image import GridLegend, draw_xyz_grid
    from modules.xyz.infotext import grid_infotext

    by_index = sorted(cells, key=lambda c: c.cell.index)
    nx, ny, nz = plan.sizes
    result = GenerationResult(interrupted=interrupted)
    for cell in by_index:
        result.warnings += [w for w in cell.warnings if w not in result.warnings]
    drawn = [c for c in by_index if c.image is not None]
    if not drawn:
        result.message = msg("xyz_interrupted", done=0, total=len(plan.cells))
        return result
    first = drawn[0]
    pictures: list[Image.Image | None] = [None] * (nx * ny * nz)
    for cell in drawn:
        pictures[cell.cell.index] = cell.image
    axes = plan.axes
    legend = GridLegend(axes[0].legend(), axes[1].legend(), axes[2].legend()) if plan.args.draw_legend else None
    background = str(app.options.get("grid_background_color", "#ffffff") or "#ffffff")
    try:
        grid, sub_grids = draw_xyz_grid(pictures, nx, ny, nz, legend, margin=plan.args.margin, background=background)
    except InvalidParams as e:  # cells larger than planned (checked before): keep them, say why there is no grid
        return _cells_only(result, by_index, f"{_message(plan, by_index, interrupted, None)} {e}")
    infotext = grid_infotext(first.infotexts[0], plan)
    shown_subs = sub_grids if plan.args.include_sub_grids and nz > 1 else []
    saved = None
    if request.save_grid:
        saved = save_plot(app, request, plan, grid, shown_subs, infotext, first, by_index, started)
    result.images = [grid, *shown_subs]
    result.infotexts = [infotext] * (1 + len(shown_subs))
    result.seeds = [first.seeds[0]] * (1 + len(shown_subs))
    subseeds = [first.subseeds[0]] * (1 + len(shown_subs)) if first.subseeds else []
    if saved is not None:
        result.paths = [saved.grid, *saved.sub_grids]
    for cell in by_index:
        result.images += cell.images
        result.infotexts += cell.infotexts
        result.seeds += cell.seeds
        subseeds += cell.subseeds
        result.paths += cell.paths
    if len(subseeds) == len(result.images):
        result.subseeds = subseeds
    result.scheduler = first.cell.request.params.scheduler
    result.message = _message(plan, by_index, interrupted, saved)
    for warning in result.warnings:
        result.message += " " + warning
    return result


def _cells_only(result: GenerationResult, cells: list[CellResult], message: str) -> GenerationResult:
    for cell in cells:
        result.images += cell.images
        result.infotexts += cell.infotexts
        result.seeds += cell.seeds
        result.subseeds += cell.subseeds
        result.paths += cell.paths
    result.message = message
    return result


def _message(plan: Plan, cells: list[CellResult], interrupted: bool, saved: SavedGrid | None) -> str:
    total, nz = len(plan.cells), plan.sizes[2]
    done = sum(1 for c in cells if c.image is not None)
    if interrupted:
        text = msg("xyz_interrupted", done=done, total=total)
    elif saved is not None:
        text = msg("xyz_saved", cells=total, grids=nz, path=saved.grid)
    else:
        text = msg("xyz_not_saved", cells=total, grids=nz)
    skipped = sum(1 for c in cells if c.skipped)
    if skipped:
        text += " " + msg("xyz_skipped", count=skipped)
    failed = [c for c in cells if c.error]
    if failed:
        text += " " + msg("xyz_failed_cells", count=len(failed), reasons="; ".join(sorted({c.error for c in failed})))
    return text


def save_plot(app: App, request: GenerationRequest, plan: Plan, grid: Image.Image, sub_grids: list[Image.Image],
              infotext: str, first: CellResult, cells: list[CellResult], started: datetime) -> SavedGrid | None:
    """Save the grid (A1111's xyz_grid-NNNN-<seed> name in the grids folder), its sub-grids and the CSV and
    JSON tables beside it; None when the grid_save option (or an override) is off."""
    from modules.generation.outputs import next_number, save_image
    from modules.generation.save_options import SaveOptions, name_fields

    saving = SaveOptions.for_run(app, request.kind, request.options)
    if not saving.grid_save:
        return None
    info = app.models.current_info
    params = first.cell.request.params
    seed = first.seeds[0]
    fields = name_fields(params, seed, info.stem if info else "", info.shorthash if info else "", 0, started)
    folder = saving.grid_folder(fields)
    stem = f"{PREFIX}{next_number(folder, PREFIX):0{DIGITS}d}-{seed}"
    path = save_image(grid, folder, seed, infotext, stem=stem, fmt=saving.grid_format, add_number=False)
    stem = path.stem  # a name that was taken meanwhile got -1, -2, ...
    subs = [save_image(sub, folder, seed, infotext, stem=f"{stem}-z{i + 1}", fmt=saving.grid_format, add_number=False)
            for i, sub in enumerate(sub_grids)]
    table, details = path.with_suffix(".csv"), path.with_suffix(".json")
    rows = cell_rows(plan, cells)
    write_table(table, rows)
    details.write_text(json.dumps({"grid": path.name, "sub_grids": [p.name for p in subs],
                                   "axes": axes_info(plan), "cells": rows}, ensure_ascii=False, indent=1),
                       encoding="utf-8")
    return SavedGrid(path, subs, table, details)


def axes_info(plan: Plan) -> list[dict[str, Any]]:
    return [{"axis": name, "type": axis.label, "values_text": axis.text, "values": [_plain(v) for v in axis.values]}
            for name, axis in zip(AXIS_NAMES, plan.axes, strict=True)]


def cell_rows(plan: Plan, cells: list[CellResult]) -> list[dict[str, Any]]:
    """One entry per cell (grid index order): its place, its axis values, the parameters it was drawn with
    (its first image's infotext), its seeds and files (their full paths)."""
    rows = []
    for result in cells:
        cell = result.cell
        at = (cell.ix, cell.iy, cell.iz)
        values = {axis.label: _plain(axis.values[i]) for axis, i in zip(plan.axes, at, strict=True)
                  if axis.spec.value_type != "none"}
        rows.append({"index": cell.index, "x": cell.ix, "y": cell.iy, "z": cell.iz, "values": values,
                     "seeds": list(result.seeds), "files": [str(p) for p in result.paths],
                     "parameters": result.infotexts[0] if result.infotexts else "",
                     "status": "skipped" if result.skipped else "failed" if result.error
                     else "not drawn" if result.image is None else "drawn"})
    return rows


def write_table(path: Path, rows: list[dict[str, Any]]) -> None:
    """The cells as CSV: index, x, y, z, one column per axis value, seeds, files, status, parameters."""
    labels = list(dict.fromkeys(label for row in rows for label in row["values"]))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["index", "x", "y", "z", *labels, "seeds", "files", "status", "parameters"])
        for row in rows:
            writer.writerow([row["index"], row["x"], row["y"], row["z"],
                             *(_text(row["values"].get(label, "")) for label in labels),
                             " ".join(map(str, row["seeds"])), " ".join(row["files"]), row["status"],
                             row["parameters"]])


def _plain(value: Any) -> Any:
    """A value as JSON holds it (tuples as lists, other kinds as text)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return str(value)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "x".join(map(str, value)) if len(value) == 2 and all(isinstance(v, int) for v in value) \
            else ", ".join(map(str, value))
    return "" if value is None else str(value)
