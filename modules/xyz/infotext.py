"""The X/Y/Z keys of a grid's infotext, as A1111 writes them, and the script arguments read back from them.

    grid_infotext(first_cell_infotext, plan)   # + "Script: X/Y/Z plot, X Type: Steps, X Values: "1,2", ..."
    args_from_infotext(parse_infotext(text))   # the 18 script arguments (plot.ARGS order), or None

A grid's infotext is its first cell's with, before Version: Script, X Type, X Values, Fixed X Values
(the seeds of a Seed / Var. seed axis with -1 drawn), the same for Y and Z; a Nothing axis writes none.
Beyond A1111, "Vary seeds: X, Z" names the axes whose cells vary the seed.
Pasting it back (the UI's ↙️, the API's `infotext`) selects the script and fills its arguments; a Fixed
values list is taken over the written one, so the same seeds come back (A1111 reads X Values only).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modules.generation.infotext import format_value, parameter_line, parse_infotext

if TYPE_CHECKING:
    from modules.xyz.plan import Plan

SCRIPT_KEY = "Script"
TITLE = "X/Y/Z plot"
NAMES = ("X", "Y", "Z")
NOTHING = "Nothing"
VARY_KEY = "Vary seeds"  # "X, Z": beyond A1111, so a pasted plot varies its seeds the same way


def script_keys(plan: Plan) -> dict[str, str]:
    """The grid's own keys, in A1111's order."""
    keys = {SCRIPT_KEY: TITLE}
    for name, axis in zip(NAMES, plan.axes, strict=True):
        if axis.label == NOTHING:
            continue
        keys[f"{name} Type"] = axis.label
        keys[f"{name} Values"] = axis.text
        if axis.fixed:
            keys[f"Fixed {name} Values"] = ", ".join(format_value(v) for v in axis.values)
    varied = [name for name, on in zip(NAMES, plan.args.vary_seeds, strict=True) if on]
    if varied:  # not A1111's (it records none of its options): without it a paste would not vary the seeds
        keys[VARY_KEY] = ", ".join(varied)
    return keys


def grid_infotext(cell_infotext: str, plan: Plan) -> str:
    """cell_infotext (the first cell's) with the grid's keys added before Version (A1111's place)."""
    keys = parameter_line(script_keys(plan))
    head, sep, last = cell_infotext.rpartition("\n")
    if not sep or len(parse_infotext(cell_infotext)) <= 2:  # no parameter line: the keys make one
        return f"{cell_infotext}\n{keys}".strip()
    before, marker, version = last.partition(", Version: ")
    line = f"{before}, {keys}{marker}{version}" if marker else f"{last}, {keys}"
    return f"{head}{sep}{line}"


def is_plot(info: Mapping[str, str]) -> bool:
    return info.get(SCRIPT_KEY, "").strip().casefold() == TITLE.casefold()


def args_from_infotext(info: Mapping[str, str]) -> list[Any] | None:
    """The script's 18 arguments an X/Y/Z grid's infotext records (types, values in text and dropdown form,
    the options at their defaults: A1111 records none of them), None when it is no plot's."""
    if not is_plot(info):
        return None
    args: list[Any] = []
    for name in NAMES:
        label = info.get(f"{name} Type", "").strip() or NOTHING
        values = info.get(f"Fixed {name} Values") or info.get(f"{name} Values", "")
        args += [label, values if label != NOTHING else "", values if label != NOTHING else ""]
    varied = {v.strip().upper() for v in info.get(VARY_KEY, "").split(",")}
    # draw legend, sub images, sub grids, keep -1 (fixed seeds are written out), vary x/y/z, margin, text inputs
    return [*args, True, False, False, False, *(name in varied for name in NAMES), 0, False]
