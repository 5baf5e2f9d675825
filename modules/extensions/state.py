"""What the extensions are at this start (App.extensions), and which ones the user turned off.

The off list is A1111's "disabled_extensions" in config.json: a list of folder names, read at start and
written by the Extensions tab; a change applies at the next start (code already imported stays loaded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from modules.extensions.callbacks import Callbacks

if TYPE_CHECKING:
    from modules.options import Options

DISABLED_KEY = "disabled_extensions"
Status = Literal["loaded", "failed", "disabled", "not loaded"]


@dataclass(frozen=True)
class ExtensionInfo:
    name: str  # the folder's name
    path: Path
    status: Status  # "not loaded": found after the start (installed since); restart to load it
    error: str = ""  # why it failed (one line; the log has the traceback)
    registered: tuple[str, ...] = ()  # "sampler: Euler (example)", ... what it added to the registry


@dataclass
class Extensions:
    """The extensions found at start, in load order, and the callbacks the loaded ones added."""

    found: list[ExtensionInfo] = field(default_factory=list)
    callbacks: Callbacks = field(default_factory=Callbacks)

    def get(self, name: str) -> ExtensionInfo | None:
        return next((e for e in self.found if e.name.casefold() == name.casefold()), None)


def disabled_names(options: Options) -> list[str]:
    """The names config.json lists as disabled (anything that is not a list of names counts as none)."""
    value: Any = options.get(DISABLED_KEY, [])
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str)]


def save_enabled(options: Options, names: list[str], enabled: list[str]) -> list[str]:
    """Keep in config.json every name of names not in enabled as disabled (names disabled earlier whose
    folder is gone stay in the list, as A1111 keeps them); returns the new disabled list."""
    on = set(enabled)
    kept = [n for n in disabled_names(options) if n not in names]
    disabled = sorted({*kept, *(n for n in names if n not in on)}, key=str.casefold)
    options.remember(DISABLED_KEY, disabled)
    return disabled
