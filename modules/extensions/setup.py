"""start_extensions(app): called by build_app. Registers the core Extensions tab and API route, loads the
extensions (modules/extensions/loader.py) and lets the model manager tell them about each loaded model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modules.extensions.loader import load_extensions
from modules.registry import TabSpec

if TYPE_CHECKING:
    from modules.app import App
    from modules.model_manager.loaded_model import LoadedModel

EXTENSIONS_TAB_ORDER = 200  # after the generation and tool tabs, as A1111 puts Extensions last


def _build_tab(app: App) -> object:
    from modules.ui.extensions_tab import build_extensions_tab

    return build_extensions_tab(app)


def _router(app: App) -> object:
    from modules.api.extensions import extensions_router

    return extensions_router(app)


def start_extensions(app: App) -> None:
    app.registry.tabs.register("extensions", TabSpec("extensions", "Extensions", _build_tab),
                               order=EXTENSIONS_TAB_ORDER)
    app.registry.api_routes.register("extensions", _router)
    load_extensions(app)

    def model_loaded(model: LoadedModel) -> None:
        app.extensions.callbacks.fire("model_loaded", app, model)

    app.models.on_loaded = model_loaded
