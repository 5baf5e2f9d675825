"""Script arguments from any front door, checked against the script's args spec (positional, A1111 order).

check_args(script, values) -> the values converted to their kinds, the defaults for those left out;
InvalidParams (422 from the API) naming the argument (label and position) and what it takes.
Strings are accepted for every kind (the command line's --script-arg values are text).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams
from modules.messages import msg

if TYPE_CHECKING:
    from modules.scripts.base import Script, ScriptArg

TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")


def check_args(script: Script, values: Sequence[Any] | None) -> tuple[Any, ...]:
    values = list(values or [])
    spec = script.args
    if len(values) > len(spec):
        labels = ", ".join(f"{i} {a.label}" for i, a in enumerate(spec)) or "none"
        raise InvalidParams(msg("script_too_many_args", script=script.title, count=len(values), most=len(spec),
                                labels=labels))
    checked = [check_value(script, arg, values[i] if i < len(values) else None, i) for i, arg in enumerate(spec)]
    return tuple(checked)


def check_value(script: Script, arg: ScriptArg, value: Any, position: int) -> Any:
    """value as arg's kind (None: the default); InvalidParams naming the argument otherwise."""
    if value is None:
        return arg.default
    converted = _convert(arg, value)
    if converted is None or not _in_range(arg, converted):
        raise InvalidParams(msg("script_bad_arg", script=script.title, position=position, label=arg.label,
                                value=repr(value)[:80], expected=describe(arg)))
    return converted


def describe(arg: ScriptArg) -> str:
    """What arg takes, in words ('a whole number from 1 to 10', 'one of: start, end')."""
    bounds = ""
    if arg.minimum is not None and arg.maximum is not None:
        bounds = f" from {_num(arg.minimum)} to {_num(arg.maximum)}"
    elif arg.minimum is not None:
        bounds = f" of at least {_num(arg.minimum)}"
    elif arg.maximum is not None:
        bounds = f" of at most {_num(arg.maximum)}"
    return {"bool": "true or false", "int": "a whole number" + bounds, "float": "a number" + bounds,
            "str": "text", "choice": "one of: " + ", ".join(arg.choices)}[arg.kind]


def arg_info(arg: ScriptArg) -> dict[str, Any]:
    """A1111's /script-info shape of one argument."""
    return {"label": arg.label, "value": arg.default, "minimum": arg.minimum, "maximum": arg.maximum,
            "step": arg.step, "choices": list(arg.choices) or None}


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _convert(arg: ScriptArg, value: Any) -> Any:
    text = value.strip() if isinstance(value, str) else None
    if arg.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if text is not None and text.lower() in TRUE + FALSE:
            return text.lower() in TRUE
        return None
    if arg.kind in ("int", "float"):
        number = _number(value, text)
        if number is None:
            return None
        if arg.kind == "int":
            return int(number) if float(number).is_integer() else None
        return float(number)
    if arg.kind == "choice":
        if not isinstance(value, str):
            return None
        found = [c for c in arg.choices if c.casefold() == value.strip().casefold()]
        return found[0] if found else None
    return value if isinstance(value, str) else None


def _number(value: Any, text: str | None) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif text:
        try:
            number = float(text)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _in_range(arg: ScriptArg, value: Any) -> bool:
    if arg.kind not in ("int", "float"):
        return True
    return (arg.minimum is None or value >= arg.minimum) and (arg.maximum is None or value <= arg.maximum)
