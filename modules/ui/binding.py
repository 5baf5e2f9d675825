"""Bind UI components to the fields of a params dataclass by field name, never by position.

    binding = ParamBinding(Txt2ImgParams)
    steps = binding.bind("steps", gr.Slider(...))
    button.click(handler, inputs_kwargs=binding.inputs())   # handler(**values) gets the fields by name
    params = binding.params(values)                          # typed, converted Txt2ImgParams

Only the conversion from UI values (floats from sliders, None from an emptied number box) happens
here; range checks stay in the params' own validate(). A field shown as a choice of labels (a Radio
for an int or bool field) is bound with Choices(labels): the label's index is the field's value.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from modules.errors import InvalidParams
from modules.messages import msg

P = TypeVar("P")

_CONVERTERS = {"int", "float", "str"}


@dataclass(frozen=True)
class Choices:
    """A field whose value is the index of one of labels (bool fields: False = labels[0], True = labels[1])."""

    labels: tuple[str, ...]

    def to_field(self, value: Any, kind: str, field: str) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < len(self.labels):
            index = int(value)
        elif value in self.labels:
            index = self.labels.index(value)
        else:
            raise InvalidParams(msg("bad_choice", field=field, value=value, choices=", ".join(self.labels)))
        return bool(index) if kind == "bool" else index

    def to_ui(self, value: Any) -> str:
        return self.labels[int(value)]


class ParamBinding(Generic[P]):
    """Field name ↔ component for one dataclass type."""

    def __init__(self, params_type: type[P]) -> None:
        self.params_type = params_type
        self._fields = {f.name: f for f in dataclasses.fields(params_type)}  # type: ignore[arg-type]
        self.components: dict[str, Any] = {}
        self._choices: dict[str, Choices] = {}

    def bind(self, name: str, component: Any, choices: Choices | None = None) -> Any:
        """Register component as the input for field name; returns the component."""
        if name not in self._fields:
            raise KeyError(f"{self.params_type.__name__} has no field {name!r}")
        if name in self.components:
            raise KeyError(f"field {name!r} is already bound")
        self.components[name] = component
        if choices is not None:
            self._choices[name] = choices
        return component

    def inputs(self) -> dict[str, Any]:
        """For an event's inputs_kwargs: field name → component."""
        return dict(self.components)

    def params(self, values: Mapping[str, Any]) -> P:
        """Typed params from UI values keyed by field name; unbound fields keep their defaults."""
        unknown = set(values) - set(self._fields)
        if unknown:
            raise KeyError(f"unknown fields for {self.params_type.__name__}: {sorted(unknown)}")
        kwargs = {name: self._convert(name, value) for name, value in values.items()}
        return self.params_type(**kwargs)

    def updates(self, params: P) -> dict[Any, Any]:
        """component → value for each bound field (to put params back into the UI)."""
        return {component: self._to_ui(name, getattr(params, name)) for name, component in self.components.items()}

    def _to_ui(self, name: str, value: Any) -> Any:
        choices = self._choices.get(name)
        return choices.to_ui(value) if choices is not None else value

    def _label(self, name: str) -> str:
        label = getattr(self.components.get(name), "label", None)
        return str(label) if label else name.replace("_", " ").capitalize()

    def _convert(self, name: str, value: Any) -> Any:
        kind = str(self._fields[name].type)
        if name in self._choices:
            return self._choices[name].to_field(value, kind, self._label(name))
        if kind not in _CONVERTERS:
            return value
        if kind == "str":
            return "" if value is None else str(value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidParams(msg("bad_number", field=self._label(name), value="" if value is None else value)) from None
        if math.isnan(number) or math.isinf(number):
            raise InvalidParams(msg("bad_number", field=self._label(name), value=value))
        if kind == "float":
            return number
        if not number.is_integer():
            raise InvalidParams(msg("bad_whole_number", field=self._label(name), value=value))
        return int(number)
