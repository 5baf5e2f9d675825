"""What the app registers itself at start: its samplers, schedule types, network kinds, upscalers,
scripts, tabs and X/Y/Z axes.

build_app calls register_core(app) before anything else registers, so core entries come first in every
list and an extension cannot take a core name."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modules.app import App


def register_core(app: App) -> None:
    from modules.api.extras import register_extras_routes
    from modules.networks.library import register_core_networks
    from modules.samplers.core import register_core_samplers
    from modules.scripts.core import register_core_scripts
    from modules.ui.core_tabs import register_core_tabs
    from modules.ui.settings_tab import register_settings_tab
    from modules.upscalers.model_files import register_model_upscalers
    from modules.upscalers.resize import register_core_upscalers
    from modules.xyz.axes import register_core_axes

    register_core_samplers(app.registry)
    register_core_networks(app)
    register_core_upscalers(app.registry)
    register_model_upscalers(app)  # the files in models/ESRGAN, models/RealESRGAN, ... (loaded on first use)
    register_extras_routes(app.registry)  # POST /sdapi/v1/extra-single-image, /extra-batch-images
    register_core_scripts(app.registry)
    register_core_tabs(app.registry)
    register_settings_tab(app.registry)
    register_core_axes(app.registry)
