"""The page's own tabs, registered in app.registry.tabs at start: txt2img, img2img, Extras and PNG Info
(negative orders, in this order, as A1111), so they come first; tabs an extension or a later part of the app
registers come after them (with the default order 0, or the app's own Settings 100 and Extensions 200)."""

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


def _extras(app: App) -> Any:
    from modules.ui.extras_tab import build_extras_tab

    return build_extras_tab(app)


def _png_info(app: App) -> Any:
    from modules.ui.png_info_tab import build_png_info_tab

    return build_png_info_tab(app)


CORE_TABS = (TabSpec("txt2img", "txt2img", _txt2img), TabSpec("img2img", "img2img", _img2img),
             TabSpec("extras", "Extras", _extras), TabSpec("png_info", "PNG Info", _png_info))


def register_core_tabs(registry: Registry) -> None:
    for order, tab in enumerate(CORE_TABS, start=-len(CORE_TABS)):
        registry.tabs.register(tab.tab_id, tab, source=CORE, order=order)
