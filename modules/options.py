"""Options: the A1111 settings the backend honours, by A1111 key, with their defaults, kept in config.json.

Three kinds of keys:
- generation options map onto a field of Txt2ImgParams (OPTION_FIELDS) and are checked by that
  dataclass's own validate(), so the messages are the same as for a request field;
- app options (APP_OPTIONS: live previews, ...) have their own type and allowed values;
- fixed options exist with one value (setting another value is refused).
The checkpoint itself is whatever app.models has loaded; its title and the VAE choice are remembered
(REMEMBERED) so the next start picks them again, as A1111 does.

With a path, values are read from that JSON file at start and written back (atomically) on every
change. Keys this version does not know are kept and written back unchanged, so pointing --data-dir
at an AUTOMATIC1111 folder never loses that program's settings. A damaged file is moved aside to
config.json.bad and the defaults are used.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modules.errors import InvalidParams
from modules.messages import msg
from modules.samplers.noise_schedule import NOISE_SCHEDULES

log = logging.getLogger(__name__)

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

# app options a run reads (the generation, or the API's answer for return_grid), which a request's
# override_settings may set for that one run
RUN_OPTIONS = ("sd_noise_schedule", "return_grid")

# values the app sets itself and reads back at the next start
REMEMBERED = ("sd_model_checkpoint", "sd_vae")

PREVIEW_TYPES = ("Approx cheap", "Full")


@dataclass(frozen=True)
class OptionSpec:
    default: Any
    kind: type
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    def check(self, key: str, value: Any) -> Any:
        if self.kind is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) != (self.kind is bool) or not isinstance(value, self.kind):
            raise InvalidParams(msg("bad_option", option=key, value=value))
        if self.choices and value not in self.choices:
            raise InvalidParams(msg("option_choices", option=key, value=value, choices=", ".join(self.choices)))
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise InvalidParams(msg("option_range", option=key, value=value, low=self.minimum, high=self.maximum))
        return value


APP_OPTIONS: dict[str, OptionSpec] = {
    "live_previews_enable": OptionSpec(True, bool),
    # redraw the preview when sampling has advanced this many steps; -1: only at the end of a batch; 0: never
    "show_progress_every_n_steps": OptionSpec(10, int, minimum=-1, maximum=1000),
    "show_progress_type": OptionSpec("Approx cheap", str, choices=PREVIEW_TYPES),
    "show_progress_grid": OptionSpec(True, bool),  # preview the whole batch as a grid, else its first image
    # "Default": the schedule the checkpoint says it was trained on; "Zero Terminal SNR": that one for
    # every model (for zero-terminal-SNR checkpoints whose file does not say so)
    "sd_noise_schedule": OptionSpec("Default", str, choices=NOISE_SCHEDULES),
    # A1111's "Show grid in gallery": the API answers a batch's grid first only with save_images and this on
    "return_grid": OptionSpec(True, bool),
}


def _param_fields() -> dict[str, dataclasses.Field[Any]]:
    from modules.generation.params import Txt2ImgParams

    return {f.name: f for f in dataclasses.fields(Txt2ImgParams)}


def generation_option_keys() -> dict[str, str]:
    """OPTION_FIELDS limited to fields Txt2ImgParams has in this version."""
    fields = _param_fields()
    return {key: name for key, name in OPTION_FIELDS.items() if name in fields}


class Options:
    """Thread-safe option values; generation defaults come from Txt2ImgParams' field defaults.
    path: the config.json to read at start and write on every change (None: memory only)."""

    def __init__(self, path: Path | None = None) -> None:
        self._lock = threading.Lock()
        self.path = path
        self.notice = ""  # a problem met while reading the file, for the log / status line
        fields = _param_fields()
        self._values: dict[str, Any] = {key: fields[name].default for key, name in generation_option_keys().items()}
        self._values.update({key: spec.default for key, spec in APP_OPTIONS.items()})
        self._other: dict[str, Any] = {}  # unknown and remembered keys, written back unchanged
        if path is not None:
            self._read(path)

    # --- reading ------------------------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {**FIXED_OPTIONS, **self._values}

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            if key in self._values:
                return self._values[key]
            if key in REMEMBERED and key in self._other:
                return self._other[key]
            return FIXED_OPTIONS.get(key, default)

    def param_defaults(self) -> dict[str, Any]:
        """{Txt2ImgParams field: value} from the generation options."""
        keys = generation_option_keys()
        with self._lock:
            return {keys[key]: value for key, value in self._values.items() if key in keys}

    # --- checking and setting -----------------------------------------------------------------------
    def check(self, key: str, value: Any) -> Any:
        """The value as stored, or InvalidParams naming the option. Unknown keys return None."""
        from modules.generation.params import Txt2ImgParams

        if key in APP_OPTIONS:
            return APP_OPTIONS[key].check(key, value)
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
        """Check every value first, then set them all (and save); returns the keys that were not known."""
        checked: dict[str, Any] = {}
        unknown: list[str] = []
        for key, value in values.items():
            stored = self.check(key, value)
            if key in self._values:
                checked[key] = stored
            elif key not in FIXED_OPTIONS:
                unknown.append(key)
        with self._lock:
            self._values.update(checked)
        if checked:
            self.save()
        return unknown

    def remember(self, key: str, value: str | None) -> None:
        """Record a choice the app made (loaded checkpoint, VAE) for the next start."""
        if key not in REMEMBERED:
            raise KeyError(key)
        with self._lock:
            if self._other.get(key) == value:
                return
            self._other[key] = value
        self.save()

    # --- the file -----------------------------------------------------------------------------------
    def _read(self, path: Path) -> None:
        if not path.is_file():
            return
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (OSError, UnicodeDecodeError, ValueError) as e:
            self._set_aside(path, e)
            return
        skipped = []
        for key, value in data.items():
            if key in self._values:
                try:
                    self._values[key] = self.check(key, value)
                except InvalidParams:
                    skipped.append(key)
                    self._other[key] = value  # kept in the file; the default is used
            else:
                self._other[key] = value  # unknown, fixed or remembered: written back as it was
        if skipped:
            self.notice = msg("options_skipped", file=path, keys=", ".join(skipped))
            log.warning("%s", self.notice)

    def _set_aside(self, path: Path, error: Exception) -> None:
        bad = path.with_name(path.name + ".bad")
        try:
            os.replace(path, bad)
        except OSError:
            bad = path
        self.notice = msg("options_damaged", file=path, reason=str(error)[:200], kept=bad)
        log.warning("%s", self.notice)

    def save(self) -> None:
        """Write every value (and the keys kept from the file) to path: temp file, then rename."""
        if self.path is None:
            return
        with self._lock:
            data = {**self._other, **self._values}
        partial = self.path.with_name(f".{self.path.name}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(json.dumps(data, indent=4, sort_keys=True, default=str), encoding="utf-8")
            os.replace(partial, self.path)
        except OSError as e:
            log.warning("%s", msg("options_not_saved", file=self.path, reason=e))
