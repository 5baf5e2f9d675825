"""The values of one X/Y/Z plot axis, from the text the user typed (A1111's syntax, a few rules clearer).

    parse_axis_values("Steps", "10-20 (+5)")         # [10, 15, 20]
    parse_axis_values("Steps", "10-1 (-3)")          # [10, 7, 4, 1]
    parse_axis_values("CFG Scale", "1-2 [3]")        # [1.0, 1.5, 2.0]
    parse_axis_values("Sampler", 'Euler, "DPM++ 2M"') # ['Euler', 'DPM++ 2M']
    parse_axis_values("Size", "512x768, 64x64")      # [(512, 768), (64, 64)]
    parse_axis_values("Prompt order", "a, b")        # [('a', 'b'), ('b', 'a')]

The text is split as CSV (quotes allowed, so `"a, b"` is one value; a new line separates values too),
every item is stripped and empty items are dropped. Then, by the axis's value type:

- int: an item is a whole number (`-1` works) or a range:
    `A-B`        every whole number from A to B, both included. B below A counts DOWN (`10-1` is
                 10, 9, ..., 1); A1111 gives nothing there, which nobody means.
    `A-B (+S)`   from A towards B in steps of S (`1-10 (+3)`: 1, 4, 7, 10); `A-B (-S)` counts down
                 (`10-1 (-3)`: 10, 7, 4, 1). B is included when a step lands on it. A step that points
                 away from B, or 0, is an error (A1111 silently gives nothing).
    `A-B [N]`    N values evenly from A to B, both included, cut to whole numbers as A1111 does
                 (`1-10 [5]`: 1, 3, 5, 7, 10).
- float: the same forms with decimals (`0.5-1 (+0.25)`: 0.5, 0.75, 1.0; `1-2 [3]`: 1.0, 1.5, 2.0); a
  step range never overshoots B (A1111's arange can add one value past it); values are rounded to 10
  decimals so 0.1 steps read 0.3, not 0.30000000000000004. nan and inf are refused.
- size: `WxH` (`512x768`; x, X or the multiplication sign) -> (width, height).
- permutation (Prompt order): every ordering of the items -> tuples of str (at most 6 items: 720 cells).
- str: the items as they are (Sampler, Checkpoint name, ...); Prompt S/R's are prompt_edits.SearchReplace
  strings that carry the first value (the text every value replaces).
- none (Nothing): [None], whatever the text.

Every problem raises modules.errors.InvalidParams naming the axis and the bad value; an axis may have
at most MAX_VALUES values (counted before a range is expanded, so `1-999999999` is refused at once).
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams
from modules.messages import msg

if TYPE_CHECKING:
    from modules.xyz.axes import AxisSpec

MAX_VALUES = 1000  # per axis; the whole plot has its own limit (the grid size)
MAX_PERMUTED = 6  # Prompt order items: 6! = 720 orderings
VALUE_TYPES = ("int", "float", "str", "size", "permutation", "none")

# the value type of every core axis label (A1111's types; extension axes carry theirs in their AxisSpec)
CORE_VALUE_TYPES: dict[str, str] = {
    "Nothing": "none", "Seed": "int", "Var. seed": "int", "Var. strength": "float", "Steps": "int",
    "Hires steps": "int", "CFG Scale": "float", "Image CFG Scale": "float", "Prompt S/R": "str",
    "Prompt order": "permutation", "Sampler": "str", "Hires sampler": "str", "Checkpoint name": "str",
    "Negative Guidance minimum sigma": "float", "Sigma Churn": "float", "Sigma min": "float",
    "Sigma max": "float", "Sigma noise": "float", "Schedule type": "str", "Schedule min sigma": "float",
    "Schedule max sigma": "float", "Schedule rho": "float", "Beta schedule alpha": "float",
    "Beta schedule beta": "float", "Eta": "float", "Clip skip": "int", "Denoising": "float",
    "Initial noise multiplier": "float", "Extra noise": "float", "Hires upscaler": "str",
    "Cond. Image Mask Weight": "float", "VAE": "str", "Styles": "str", "UniPC Order": "int",
    "Face restore": "str", "Token merging ratio": "float", "Token merging ratio high-res": "float",
    "Always discard next-to-last sigma": "str", "SGM noise multiplier": "str", "Refiner checkpoint": "str",
    "Refiner switch at": "float", "RNG source": "str", "FP8 mode": "str", "Size": "size",
    "LoRA weight": "str", "Hypernetwork strength": "str",
}

_WHOLE = r"\d+"
_DECIMAL = r"(?:\d+(?:\.\d*)?|\.\d+)"


def _range_pattern(unsigned: str) -> re.Pattern[str]:
    """A-B (each may have a sign), optionally followed by (+S) / (-S) or [N]."""
    number = rf"[+-]?\s*{unsigned}"
    return re.compile(rf"^\s*({number})\s*-\s*({number})\s*(?:\(\s*([+-]?\s*{unsigned})\s*\)|\[\s*(\d+)\s*\])?\s*$")


_INT_RANGE = _range_pattern(_WHOLE)
_FLOAT_RANGE = _range_pattern(_DECIMAL)
_SIZE = re.compile(r"^\s*(\d+)\s*[xX\u00d7]\s*(\d+)\s*$")


def parse_axis_values(axis_label: str, text: str) -> list:
    """The values of the core axis axis_label (its UI label, e.g. "Steps") written as text; see the module
    doc. InvalidParams naming the axis and the bad value; an unknown label is an error too."""
    value_type = CORE_VALUE_TYPES.get(axis_label)
    if value_type is None:
        raise InvalidParams(msg("xyz_unknown_axis", axis=str(axis_label)[:80],
                                choices=", ".join(CORE_VALUE_TYPES)))
    return parse_typed_values(axis_label, value_type, text)


def parse_values(axis: AxisSpec, text: str) -> list:
    """The values of any registered axis (core or an extension's), by its value_type."""
    return parse_typed_values(axis.label, axis.value_type, text)


def split_items(text: str) -> list[str]:
    """The CSV items of text (quotes allowed, new lines separate too), stripped, empty ones dropped."""
    try:
        rows = list(csv.reader(io.StringIO(text or ""), skipinitialspace=True))
    except csv.Error as e:  # a field over the csv module's size limit (131072 characters)
        raise InvalidParams(msg("xyz_bad_text", error=str(e))) from None
    return [item.strip() for item in itertools.chain.from_iterable(rows) if item.strip()]


def parse_typed_values(label: str, value_type: str, text: str) -> list:
    """The values of an axis called label whose values are of value_type (one of VALUE_TYPES)."""
    if value_type == "none":
        return [None]
    if value_type not in VALUE_TYPES:
        raise ValueError(f"unknown value type {value_type!r} of axis {label!r}")
    items = split_items(text if isinstance(text, str) else "")
    if not items:
        raise InvalidParams(msg("xyz_no_values", axis=label))
    if value_type == "permutation":
        if len(items) > MAX_PERMUTED:
            raise InvalidParams(msg("xyz_too_many_permuted", axis=label, count=len(items), most=MAX_PERMUTED))
        return list(itertools.permutations(items))
    if len(items) > MAX_VALUES:
        raise InvalidParams(msg("xyz_too_many_values", axis=label, count=len(items), most=MAX_VALUES))
    values: list[Any] = []
    for item in items:
        if value_type == "int":
            values += _numbers(label, item, whole=True, room=MAX_VALUES - len(values))
        elif value_type == "float":
            values += _numbers(label, item, whole=False, room=MAX_VALUES - len(values))
        elif value_type == "size":
            values.append(_size(label, item))
        else:
            values.append(item)
        if len(values) > MAX_VALUES:
            raise InvalidParams(msg("xyz_too_many_values", axis=label, count=f"more than {MAX_VALUES}",
                                    most=MAX_VALUES))
    if label == "Prompt S/R":  # each value replaces the first one (it knows which: prompt_edits.SearchReplace)
        from modules.xyz.prompt_edits import search_replace_values

        return search_replace_values(values)
    return values


def _numbers(label: str, item: str, whole: bool, room: int) -> list[Any]:
    """One item of a number axis: a single number or a range, expanded (at most room values)."""
    found = (_INT_RANGE if whole else _FLOAT_RANGE).match(item)
    if found is None:
        return [_number(label, item, whole)]
    start, end = (_number(label, found.group(i), whole) for i in (1, 2))
    step_text, count_text = found.group(3), found.group(4)
    if count_text is not None:
        count = int(count_text)
        if count < 1:
            raise InvalidParams(msg("xyz_bad_count", axis=label, value=item))
        _check_room(label, item, count, room)
        if count == 1:
            return [start]
        spaced = [start + (end - start) * i / (count - 1) for i in range(count)]
        return [int(v) for v in spaced] if whole else [_tidy(v) for v in spaced]
    if step_text is None:
        step = 1 if end >= start else -1
    else:
        step = _number(label, step_text, whole)
        if step == 0 or (end - start) * step < 0:
            raise InvalidParams(msg("xyz_bad_step", axis=label, value=item))
    count = (end - start) // step + 1 if whole else math.floor((end - start) / step + 1e-9) + 1
    _check_room(label, item, count, room)
    return [start + i * step if whole else _tidy(start + i * step) for i in range(count)]


def _check_room(label: str, item: str, count: int, room: int) -> None:
    if count > room:
        raise InvalidParams(msg("xyz_too_many_values", axis=label, count=f"{item!r} alone gives {count}",
                                most=MAX_VALUES))


def _number(label: str, text: str, whole: bool) -> Any:
    cleaned = re.sub(r"\s+", "", text)
    try:
        value = int(cleaned) if whole else float(cleaned)
    except ValueError:
        value = None
    if value is None or (not whole and not math.isfinite(value)):
        raise InvalidParams(msg("xyz_bad_number", axis=label, value=text.strip()[:80],
                                kind="a whole number" if whole else "a number"))
    return value


def _tidy(value: float) -> float:
    return round(value, 10) + 0.0  # + 0.0 turns -0.0 into 0.0


def _size(label: str, item: str) -> tuple[int, int]:
    found = _SIZE.match(item)
    if found is None:
        raise InvalidParams(msg("xyz_bad_size", axis=label, value=item[:80]))
    return int(found.group(1)), int(found.group(2))
