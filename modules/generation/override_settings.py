"""A1111's "Override settings": infotext keys that record a setting rather than a generation field.

An infotext records a few things that are settings in A1111 (and here), not fields of the form: today
"Noise Schedule" (the option sd_noise_schedule). Pasting such an infotext does not change the setting
for good; the value becomes an override for the next generations of that tab, shown as
"Noise Schedule: Zero Terminal SNR" in the Override settings box, where the user can remove it. The API
does the same with a request's `infotext` (A1111's apply_infotext): its settings join
`override_settings` for that request, unless the request sets them itself.

Pure functions: infotext values in, option values out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from modules.errors import InvalidParams
from modules.messages import msg

# infotext key -> option key (both A1111's), for options a single generation can run with (RUN_OPTIONS)
INFOTEXT_SETTINGS: dict[str, str] = {
    "Noise Schedule": "sd_noise_schedule",
}


@dataclass(frozen=True)
class Override:
    infotext_key: str  # "Noise Schedule"
    option: str  # "sd_noise_schedule"
    value: Any  # "Zero Terminal SNR"

    @property
    def label(self) -> str:
        """How the Override settings box shows it, as A1111 does: 'Noise Schedule: Zero Terminal SNR'."""
        return f"{self.infotext_key}: {self.value}"


def overrides_in_infotext(info: Mapping[str, str]) -> tuple[list[Override], list[str]]:
    """The settings a parsed infotext records (parse_infotext's dict), and a note for each value this
    version cannot use (such a value is left out, never guessed)."""
    from modules.options import APP_OPTIONS

    found: list[Override] = []
    notes: list[str] = []
    for key, option in INFOTEXT_SETTINGS.items():
        if key not in info:
            continue
        value = str(info[key]).strip()
        try:
            APP_OPTIONS[option].check(option, value)
        except InvalidParams:
            notes.append(msg("override_unknown_value", name=key, value=value,
                             choices=", ".join(APP_OPTIONS[option].choices)))
            continue
        found.append(Override(key, option, value))
    return found, notes


def differing(overrides: Iterable[Override], current: Mapping[str, Any]) -> list[Override]:
    """overrides whose value is not what current (option key -> value in effect) already gives."""
    return [o for o in overrides if current.get(o.option) != o.value]


def options_from_labels(labels: Iterable[str] | None) -> dict[str, Any]:
    """Option values from the Override settings box's labels ('Noise Schedule: Zero Terminal SNR');
    a label this version does not know raises InvalidParams naming it."""
    from modules.options import APP_OPTIONS

    options: dict[str, Any] = {}
    for label in labels or ():
        key, sep, value = str(label).partition(":")
        option = INFOTEXT_SETTINGS.get(key.strip())
        if not sep or option is None:
            raise InvalidParams(msg("override_unknown_label", label=label,
                                    keys=", ".join(INFOTEXT_SETTINGS)))
        options[option] = APP_OPTIONS[option].check(option, value.strip())
    return options
