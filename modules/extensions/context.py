"""ExtensionContext: what an extension's register(ext) is given, and the only way it changes the app.

    def register(ext: ExtensionContext) -> None:
        ext.registry.samplers.register("Euler (example)", spec)   # source is filled in: ext.name
        ext.registry.api_routes.register("example", make_router)  # make_router(app) -> APIRouter
        ext.on_image_saved(lambda app, path, infotext: ext.log.info("saved %s", path))

Every registration is recorded, so when register() raises, the loader takes back what it added and no
half-registered extension stays behind; callbacks are handed to the app only once register() returned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from modules.extensions.callbacks import EVENTS

if TYPE_CHECKING:
    from modules.registry import Entry, Registry, Section
    from modules.settings import Settings

T = TypeVar("T")
Fn = TypeVar("Fn", bound=Callable[..., Any])


class ScopedSection(Generic[T]):
    """One registry section as an extension sees it: register() names the extension as the source."""

    def __init__(self, section: Section[T], source: str, added: list[tuple[Section[Any], str]]) -> None:
        self._section, self._source, self._added = section, source, added

    @property
    def kind(self) -> str:
        return self._section.kind

    def register(self, name: str, item: T, order: int = 0) -> T:
        """Add item under name (RegistryError, naming both sources, when the name is taken)."""
        self._section.register(name, item, source=self._source, order=order)
        self._added.append((self._section, name))
        return item

    def get(self, name: str) -> T | None:
        return self._section.get(name)

    def names(self) -> list[str]:
        return self._section.names()

    def entries(self) -> list[Entry[T]]:
        return self._section.entries()


class ScopedRegistry:
    """app.registry's sections, each scoped to one extension (see modules/registry.py for each kind)."""

    def __init__(self, registry: Registry, source: str, added: list[tuple[Section[Any], str]]) -> None:
        self.samplers: ScopedSection[Any] = ScopedSection(registry.samplers, source, added)
        self.schedules: ScopedSection[Any] = ScopedSection(registry.schedules, source, added)
        self.networks: ScopedSection[Any] = ScopedSection(registry.networks, source, added)
        self.upscalers: ScopedSection[Any] = ScopedSection(registry.upscalers, source, added)
        self.scripts: ScopedSection[Any] = ScopedSection(registry.scripts, source, added)
        self.tabs: ScopedSection[Any] = ScopedSection(registry.tabs, source, added)
        self.options: ScopedSection[Any] = ScopedSection(registry.options, source, added)
        self.api_routes: ScopedSection[Any] = ScopedSection(registry.api_routes, source, added)
        self.xyz_axes: ScopedSection[Any] = ScopedSection(registry.xyz_axes, source, added)


class ExtensionContext:
    """Given to register(ext). name: the folder's name (the source of everything it registers); path: the
    folder; settings: the app's Settings (read them, never change them); log: a logger named after it."""

    def __init__(self, name: str, path: Path, registry: Registry, settings: Settings) -> None:
        self.name = name
        self.path = path
        self.settings = settings
        self.log = logging.getLogger(f"extensions.{name}")
        self._added: list[tuple[Section[Any], str]] = []
        self.callbacks: list[tuple[str, Callable[..., Any]]] = []
        self.registry = ScopedRegistry(registry, name, self._added)

    # --- callbacks (see callbacks.EVENTS); each returns fn, so it can be used as a decorator ------
    def on_app_started(self, fn: Fn) -> Fn:
        """fn(app) once the server answers."""
        return self._on("app_started", fn)

    def on_model_loaded(self, fn: Fn) -> Fn:
        """fn(app, model) after each checkpoint load (model: modules.model_manager.loaded_model.LoadedModel)."""
        return self._on("model_loaded", fn)

    def on_image_saved(self, fn: Fn) -> Fn:
        """fn(app, path, infotext) after each generated image is written to disk."""
        return self._on("image_saved", fn)

    def _on(self, event: str, fn: Fn) -> Fn:
        assert event in EVENTS
        if not callable(fn):
            raise TypeError(f"ext.on_{event} needs a function (got {type(fn).__name__})")
        self.callbacks.append((event, fn))
        return fn

    # --- for the loader ---------------------------------------------------------------------------
    def registered(self) -> list[str]:
        """'sampler: Euler (example)', ... in registration order."""
        return [f"{section.kind}: {name}" for section, name in self._added]

    def rollback(self) -> None:
        """Take back everything registered through this context (after a failed register())."""
        for section, name in reversed(self._added):
            section.unregister(name)
        self._added.clear()
        self.callbacks.clear()
