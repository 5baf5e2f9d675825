"""The page's own tabs, registered in app.registry.tabs at start: txt2img (order -2) and img2img (order -1),
so they come first; tabs an extension or a later part of the app registers come after them (with the default
order 0, or the app's own Settings 100 and Extensions 200)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modules.registry import CORE, TabSpec

if TYPE_CHECKING:
    from modules.app import App
    from modules.registry import Registry


def _txt2img(app: App) -> Any:
    from modules.ui.txt2img_tab import build_txt2img_tab

    return build_txt2img_tab(app)


def _img2img(app: App) -> Any:
    from modules.ui.img2img_tab import build_img2img_tab

    return build_img2img_tab(app)


CORE_TABS = (TabSpec("txt2img", "txt2img", _txt2img), TabSpec("img2img", "img2img", _img2img))


def register_core_tabs(registry: Registry) -> None:
    for order, tab in enumerate(CORE_TABS, start=-len(CORE_TABS)):
        registry.tabs.register(tab.tab_id, tab, source=CORE, order=order)
