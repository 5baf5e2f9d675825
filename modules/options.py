"""Options: the A1111 settings the backend honours, by A1111 key, with their defaults, kept in config.json.

What each option is (label, section, help text, type, default, allowed values) is its OptionSpec
(modules/option_specs.py), registered in app.registry.options; an extension registers more the same
way and they are read, checked and saved like the app's own. Three kinds of keys:
- options with a spec: generation options also name the Txt2ImgParams field they supply when a
  request does not set it (spec.field), and are checked by that dataclass's validate() as well;
- fixed options exist with one value (setting another value is refused);
- remembered values the app sets itself (REMEMBERED): the checkpoint title and the VAE choice, so the
  next start picks them again, as A1111 does.

With a path, values are read from that JSON file at start and written back (atomically) on every
change. Keys this version does not know are kept and written back unchanged, so pointing --data-dir
at an AUTOMATIC1111 folder never loses that program's settings; a key registered later (by an
extension) takes its value from what was kept. A damaged file is moved aside to config.json.bad and
the defaults are used.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from modules.errors import InvalidParams
from modules.messages import msg
from modules.option_specs import PREVIEW_TYPES, OptionSpec, core_options, register_core_options
from modules.registry import Section

log = logging.getLogger(__name__)
__all__ = ["APP_OPTIONS", "FIXED_OPTIONS", "OPTION_FIELDS", "PREVIEW_TYPES", "REMEMBERED", "RUN_OPTIONS",
           "OptionSpec", "Options", "generation_option_keys"]

# the core options, by key (the registry holds these and what extensions add)
CORE_OPTIONS: dict[str, OptionSpec] = core_options()

# option key -> Txt2ImgParams field it supplies when a request does not set it
OPTION_FIELDS: dict[str, str] = {key: spec.field for key, spec in CORE_OPTIONS.items() if spec.field}

# core options that are not request fields (override_settings checks their infotext values with these)
APP_OPTIONS: dict[str, OptionSpec] = {key: spec for key, spec in CORE_OPTIONS.items() if not spec.field}

# options that exist with a fixed value (shown by GET /options; setting another value is refused)
FIXED_OPTIONS: dict[str, Any] = {
    "sd_vae": "Automatic",  # the API's /options serves and sets it from app.networks.vaes instead
    "eta_noise_seed_delta": 0,
    "randn_source": "CPU",
}

# app options a run reads (the generation, its saving, or the API's answer for return_grid), which a
# request's override_settings may set for that one run (not folders or file names: see PATH_OPTIONS)
RUN_OPTIONS = ("sd_noise_schedule", "return_grid", "samples_save", "samples_format", "save_images_add_number",
               "grid_save", "grid_format", "enable_pnginfo", "jpeg_quality", "webp_lossless", "save_to_dirs",
               "grid_save_to_dirs", "directories_max_prompt_words")

# values the app sets itself and reads back at the next start (disabled_extensions: the Extensions tab's
# off list, A1111's key; modules/extensions/state.py)
REMEMBERED = ("sd_model_checkpoint", "sd_vae", "disabled_extensions")


def _param_fields() -> dict[str, dataclasses.Field[Any]]:
    from modules.generation.params import Txt2ImgParams

    return {f.name: f for f in dataclasses.fields(Txt2ImgParams)}


def generation_option_keys() -> dict[str, str]:
    """OPTION_FIELDS limited to fields Txt2ImgParams has in this version."""
    fields = _param_fields()
    return {key: name for key, name in OPTION_FIELDS.items() if name in fields}


def core_option_section() -> Section[Any]:
    section: Section[Any] = Section("option")
    register_core_options(section)
    return section


class Options:
    """Thread-safe option values. specs: the registry's options section (default: the core options only);
    path: the config.json to read at start and write on every change (None: memory only)."""

    def __init__(self, path: Path | None = None, specs: Section[Any] | None = None) -> None:
        self._lock = threading.Lock()
        self.path = path
        self.specs: Section[Any] = specs if specs is not None else core_option_section()
        self.notice = ""  # a problem met while reading the file, for the log / status line
        self._values: dict[str, Any] = {}  # checked values of options with a spec (else its default)
        self._other: dict[str, Any] = {}  # unknown, remembered and refused keys, written back unchanged
        # values of an option known only at run time (choices_from(app)); the App sets it (App.__post_init__)
        self.known_choices: Callable[[OptionSpec], Sequence[Any] | None] = lambda spec: None
        if path is not None:
            self._read(path)

    def spec(self, key: str) -> OptionSpec | None:
        """The registered spec of key (exact spelling), or None."""
        entry = self.specs.entry(key) if isinstance(key, str) else None
        return entry.item if entry is not None and entry.name == key and isinstance(entry.item, OptionSpec) else None

    def keys(self) -> list[str]:
        """Every registered option key, in registration order."""
        return [e.name for e in self.specs.entries() if isinstance(e.item, OptionSpec)]

    # --- reading ------------------------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        return {**FIXED_OPTIONS, **{key: self.get(key) for key in self.keys()}}

    def get(self, key: str, default: Any = None) -> Any:
        spec = self.spec(key)
        with self._lock:
            if key in self._values:
                return self._values[key]
            if spec is not None:
                return self._adopt(key, spec)
            if key in REMEMBERED and key in self._other:
                return self._other[key]
        return FIXED_OPTIONS.get(key, default)

    def _adopt(self, key: str, spec: OptionSpec) -> Any:
        """(lock held) The value of an option registered after the file was read: the file's, if it passes."""
        if key in self._other:
            try:
                self._values[key] = spec.check(key, self._other[key], self.known_choices(spec))
                return self._values[key]
            except InvalidParams:
                pass
        return spec.default

    def param_defaults(self) -> dict[str, Any]:
        """{Txt2ImgParams field: value} from the generation options."""
        fields = _param_fields()
        found = {key: spec.field for key in self.keys() if (spec := self.spec(key)) is not None and spec.field}
        return {field: self.get(key) for key, field in found.items() if field in fields}

    # --- checking and setting -----------------------------------------------------------------------
    def check(self, key: str, value: Any) -> Any:
        """The value as stored, or InvalidParams naming the option. Unknown keys return None."""
        spec = self.spec(key)
        if spec is not None:
            return spec.check(key, value, self.known_choices(spec))
        if key in FIXED_OPTIONS:
            if value != FIXED_OPTIONS[key]:
                raise InvalidParams(msg("option_fixed", option=key, value=FIXED_OPTIONS[key]))
            return value
        return None

    def problems(self, values: dict[str, Any]) -> dict[str, str]:
        """{key: message} for every value that would be refused (all of them, not the first only)."""
        found: dict[str, str] = {}
        for key, value in values.items():
            try:
                self.check(key, value)
            except InvalidParams as e:
                found[key] = str(e)
        return found

    def update(self, values: dict[str, Any]) -> list[str]:
        """Check every value first, then set them all (and save); returns the keys that were not known."""
        checked: dict[str, Any] = {}
        unknown: list[str] = []
        for key, value in values.items():
            stored = self.check(key, value)
            if self.spec(key) is not None:
                checked[key] = stored
            elif key not in FIXED_OPTIONS:
                unknown.append(key)
        with self._lock:
            self._values.update(checked)
            for key in checked:
                self._other.pop(key, None)
        if checked:
            self.save()
        return unknown

    def remember(self, key: str, value: Any) -> None:
        """Record a choice the app made (loaded checkpoint, VAE, disabled extensions) for the next start."""
        if key not in REMEMBERED:
            raise KeyError(key)
        with self._lock:
            if self._other.get(key) == value:
                return
            self._other[key] = value
        self.save()

    # --- the file -----------------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the file again (values changed by hand while the app runs); values not in it go back to
        their defaults. Without a path, nothing changes."""
        if self.path is None:
            return
        with self._lock:
            self._values.clear()
            self._other.clear()
            self.notice = ""
        self._read(self.path)

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
        values: dict[str, Any] = {}
        other: dict[str, Any] = {}
        for key, value in data.items():
            spec = self.spec(key)
            if spec is None:
                other[key] = value  # unknown, fixed or remembered: written back as it was
                continue
            try:
                values[key] = spec.check(key, value, self.known_choices(spec))
            except InvalidParams:
                skipped.append(key)
                other[key] = value  # kept in the file; the default is used
        with self._lock:
            self._values.update(values)
            self._other.update(other)
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
