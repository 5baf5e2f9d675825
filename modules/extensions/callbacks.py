"""The events an extension can listen to (ExtensionContext.on_*), and firing them without letting a failing
callback break the app: its error is logged with the extension's name and the next callback runs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from modules.messages import msg

log = logging.getLogger(__name__)

# event -> what the callback is called with
EVENTS: dict[str, str] = {
    "app_started": "(app): the server answers (web UI and/or API); not fired by command-line generation",
    "model_loaded": "(app, model): a checkpoint was loaded and is now the current model",
    "image_saved": "(app, path, infotext): a generated image was written to disk",
}


@dataclass(frozen=True)
class Callback:
    event: str
    fn: Callable[..., Any]
    source: str  # the extension's name


class Callbacks:
    """Callbacks by event, in the order they were added. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[Callback] = []

    def add(self, event: str, fn: Callable[..., Any], source: str) -> None:
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; one of {', '.join(EVENTS)}")
        if not callable(fn):
            raise TypeError(f"the {event} callback of {source} is not callable")
        with self._lock:
            self._callbacks.append(Callback(event, fn, source))

    def of(self, event: str) -> list[Callback]:
        with self._lock:
            return [c for c in self._callbacks if c.event == event]

    def fire(self, event: str, *args: Any) -> int:
        """Call every callback of event with args; returns how many failed (each failure is logged)."""
        failed = 0
        for callback in self.of(event):
            try:
                callback.fn(*args)
            except Exception as e:  # noqa: BLE001 - an extension's bug never stops the app
                failed += 1
                log.error("%s", msg("extension_callback_failed", name=callback.source, event=event,
                                    error=f"{type(e).__name__}: {e}"), exc_info=e)
        return failed
