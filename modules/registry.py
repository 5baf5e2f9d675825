"""The registry on the App object: every pluggable thing, by kind, in one place.

    app.registry.samplers.register("My sampler", spec, source="my-extension")
    app.registry.samplers.get("my sampler")      # by name, case-insensitive (None when missing)
    [e.name for e in app.registry.scripts.entries()]   # in registration order, with their source

Core code registers its own samplers, schedule types, network kinds, scripts, tabs, options and API
routes at start (build_app); an extension registers more through the same sections (its source is the
extension's name, so lists can say where an entry comes from). The UI and the API loop over the
sections instead of naming entries, so adding one is one file that registers it.

A section holds items of one kind; what an item must provide is the protocol of that kind, documented
where the kind is defined (samplers: modules/samplers/specs.py, network kinds: modules/networks/kind.py,
scripts: modules/scripts, X/Y/Z axes: modules/xyz/axes.py, tabs: TabSpec below). Registering a name twice
is an error unless replace=True, so two extensions cannot silently shadow each other. Thread-safe: an extension may
register at start on the loader thread while the page is read on another.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from modules.errors import UserError
from modules.messages import msg

if TYPE_CHECKING:
    from modules.app import App

T = TypeVar("T")
CORE = "core"  # the source of entries the app registers itself


class RegistryError(UserError):
    """A registration that cannot be taken (a name already registered by another source)."""


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    item: T
    source: str = CORE
    order: int = 0  # lower first in lists (tabs, scripts); ties keep registration order


class Section(Generic[T]):
    """The registered items of one kind, by name (looked up case-insensitively)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._lock = threading.Lock()
        self._entries: dict[str, Entry[T]] = {}  # casefolded name -> entry
        self._positions: dict[str, int] = {}  # casefolded name -> when it was first registered
        self._added = 0

    def register(self, name: str, item: T, source: str = CORE, order: int = 0, replace: bool = False) -> T:
        """Add item under name; RegistryError when another entry has that name (unless replace)."""
        if not isinstance(name, str) or not name.strip():
            raise RegistryError(msg("registry_bad_name", kind=self.kind, name=str(name)[:80]))
        key = name.casefold()
        with self._lock:
            old = self._entries.get(key)
            if old is not None and not replace:
                raise RegistryError(msg("registry_duplicate", kind=self.kind, name=name, source=old.source,
                                        new_source=source))
            # (order, first registration) sorts the lists; a replaced entry keeps its place
            self._entries[key] = Entry(name, item, source, order)
            if old is None:
                self._added += 1
                self._positions[key] = self._added
        return item

    def unregister(self, name: str) -> bool:
        with self._lock:
            key = name.casefold()
            self._positions.pop(key, None)
            return self._entries.pop(key, None) is not None

    def get(self, name: str) -> T | None:
        with self._lock:
            entry = self._entries.get(name.casefold()) if isinstance(name, str) else None
        return entry.item if entry is not None else None

    def entry(self, name: str) -> Entry[T] | None:
        with self._lock:
            return self._entries.get(name.casefold()) if isinstance(name, str) else None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.entry(name) is not None

    def entries(self) -> list[Entry[T]]:
        """All entries, by order, then registration order."""
        with self._lock:
            keyed = [(e.order, self._positions.get(k, 0), e) for k, e in self._entries.items()]
        return [e for _o, _p, e in sorted(keyed, key=lambda t: (t[0], t[1]))]

    def names(self) -> list[str]:
        return [e.name for e in self.entries()]

    def items(self) -> list[T]:
        return [e.item for e in self.entries()]

    def __iter__(self) -> Iterator[T]:
        return iter(self.items())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


@dataclass(frozen=True)
class TabSpec:
    """A top-level tab of the page. build(app) runs inside `with gr.Tab(label)` and builds its content;
    its return value is kept by the page (the txt2img/img2img tabs return their controls for wiring)."""

    tab_id: str  # the Gradio tab id and elem_id suffix ("txt2img" -> elem_id "tab_txt2img")
    label: str  # the text on the tab (a msg() key's English text for core tabs)
    build: Callable[[App], Any]


RouteFactory = Callable[["App"], Any]  # app -> a FastAPI APIRouter, included under the API's prefix


@dataclass
class Registry:
    """One Section per kind. Every section starts empty; build_app fills the core entries."""

    samplers: Section[Any] = field(default_factory=lambda: Section("sampler"))
    schedules: Section[Any] = field(default_factory=lambda: Section("schedule type"))
    networks: Section[Any] = field(default_factory=lambda: Section("network kind"))
    upscalers: Section[Any] = field(default_factory=lambda: Section("upscaler"))
    scripts: Section[Any] = field(default_factory=lambda: Section("script"))
    tabs: Section[TabSpec] = field(default_factory=lambda: Section("tab"))
    options: Section[Any] = field(default_factory=lambda: Section("option"))
    api_routes: Section[RouteFactory] = field(default_factory=lambda: Section("API route"))
    xyz_axes: Section[Any] = field(default_factory=lambda: Section("X/Y/Z axis"))  # modules/xyz/axes.py AxisSpec

    def sections(self) -> dict[str, Section[Any]]:
        return {name: getattr(self, name) for name in
                ("samplers", "schedules", "networks", "upscalers", "scripts", "tabs", "options", "api_routes",
                 "xyz_axes")}
