"""Options: the A1111 settings the backend honours, by A1111 key, with their defaults.

Generation options map onto a field of Txt2ImgParams (OPTION_FIELDS) and are checked by that
dataclass's own validate(), so the messages are the same as for a request field. The checkpoint is
not stored here: 'sd_model_checkpoint' is whatever app.models has loaded. Values live in memory for
the life of the process (there is no config.json writer yet).
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from modules.errors import InvalidParams
from modules.messages import msg

# option key -> Txt2ImgParams field it supplies when a request does not set it
OPTION_FIELDS: dict[str, str] = {
    "CLIP_stop_at_last_layers": "clip_skip",
    "emphasis": "emphasis",
}

# options that exist with a fixed value (shown by GET /options; setting another value is refused)
FIXED_OPTIONS: dict[str, Any] = {
    "sd_vae": "Automatic",  # the API's /options serves and sets it from app.networks.vaes instead
    "samples_format": "png",
    "grid_format": "png",
    "eta_noise_seed_delta": 0,
    "randn_source": "CPU",
}


def _param_fields() -> dict[str, dataclasses.Field[Any]]:
    from modules.generation.params import Txt2ImgParams

    return {f.name: f for f in dataclasses.fields(Txt2ImgParams)}


def generation_option_keys() -> dict[str, str]:
    """OPTION_FIELDS limited to fields Txt2ImgParams has in this version."""
    fields = _param_fields()
    return {key: name for key, name in OPTION_FIELDS.items() if name in fields}


class Options:
    """Thread-safe option values; defaults come from Txt2ImgParams' field defaults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        fields = _param_fields()
        self._values: dict[str, Any] = {key: fields[name].default for key, name in generation_option_keys().items()}

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {**FIXED_OPTIONS, **self._values}

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._values.get(key, FIXED_OPTIONS.get(key, default))

    def param_defaults(self) -> dict[str, Any]:
        """{Txt2ImgParams field: value} from the generation options."""
        keys = generation_option_keys()
        with self._lock:
            return {keys[key]: value for key, value in self._values.items() if key in keys}

    def check(self, key: str, value: Any) -> Any:
        """The value as stored, or InvalidParams naming the option. Unknown keys return None."""
        from modules.generation.params import Txt2ImgParams

        keys = generation_option_keys()
        if key in FIXED_OPTIONS:
            if value != FIXED_OPTIONS[key]:
                raise InvalidParams(msg("option_fixed", option=key, value=FIXED_OPTIONS[key]))
            return value
        if key not in keys:
            return None
        field = _param_fields()[keys[key]]
        kind = str(field.type)
        if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            if not (isinstance(value, float) and value.is_integer()):
                raise InvalidParams(msg("bad_option", option=key, value=value))
            value = int(value)
        if kind == "str" and not isinstance(value, str):
            raise InvalidParams(msg("bad_option", option=key, value=value))
        try:
            Txt2ImgParams(**{keys[key]: value}).validate()
        except InvalidParams as e:
            raise InvalidParams(f"{key}: {e}") from None
        return value

    def update(self, values: dict[str, Any]) -> list[str]:
        """Check every value first, then set them all; returns the keys that were not known."""
        checked: dict[str, Any] = {}
        unknown: list[str] = []
        keys = generation_option_keys()
        for key, value in values.items():
            stored = self.check(key, value)
            if key in keys:
                checked[key] = stored
            elif key not in FIXED_OPTIONS:
                unknown.append(key)
        with self._lock:
            self._values.update(checked)
        return unknown
