"""The X/Y/Z plot's script_args as front doors send them, in the kinds its args spec checks.

A1111's API takes an axis type as its index in A1111's list for that tab (its dropdown's type="index"),
or, with newer clients, its label; a multi-select's values come as a list. normalize_args turns both into
the script's text arguments: an index becomes the A1111 label at that place (an axis this app lacks is a
422 naming it), a label is checked against the registered axes, a list of values becomes one CSV line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams
from modules.messages import msg
from modules.xyz.plan import list_to_csv

if TYPE_CHECKING:
    from modules.app import App

TYPE_POSITIONS = {0: "X", 3: "Y", 6: "Z"}
DROPDOWN_POSITIONS = (2, 5, 8)


def normalize_args(app: App, kind: str, values: Sequence[Any]) -> list[Any]:
    """values with axis types as labels and dropdown lists as CSV text (see the module doc)."""
    out = list(values)
    for position, name in TYPE_POSITIONS.items():
        if position < len(out) and out[position] is not None:
            out[position] = axis_label(app, kind, out[position], position, name)
    for position in DROPDOWN_POSITIONS:
        if position < len(out) and isinstance(out[position], (list, tuple)):
            out[position] = list_to_csv(out[position])
    return out


def axis_label(app: App, kind: str, value: Any, position: int, name: str) -> str:
    """The registered axis label for an A1111 index or a label (any case); InvalidParams naming it otherwise."""
    from modules.xyz.axes import A1111_AXIS_ORDER, axes_for

    here = axes_for(app, kind)
    labels = {axis.label.casefold(): axis.label for axis in here}
    choices = ", ".join(axis.label for axis in here)
    index = _index(value)
    if index is not None:
        order = A1111_AXIS_ORDER.get(kind, ())
        if not 0 <= index < len(order):
            raise InvalidParams(msg("xyz_api_unknown_axis", position=position, axis=name, value=repr(value)[:80],
                                    kind=kind, choices=choices))
        label = order[index]
        if label.casefold() not in labels:
            raise InvalidParams(msg("xyz_api_missing_axis", position=position, axis=name, label=label, index=index,
                                    choices=choices))
        return labels[label.casefold()]
    if isinstance(value, str) and value.strip().casefold() in labels:
        return labels[value.strip().casefold()]
    raise InvalidParams(msg("xyz_api_unknown_axis", position=position, axis=name, value=repr(value)[:80], kind=kind,
                            choices=choices))


def _index(value: Any) -> int | None:
    """An integer index (also "3" or 3.0), None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None
