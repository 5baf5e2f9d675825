"""serve(app, on_ready): the web UI on app.settings.host:port until Ctrl+C.

No share link, no analytics, no run history, no monitoring endpoint, and a theme with system fonts
only: the page and the server make no request to any other host. gradio is imported here, after
the App exists, so `webui.py` answers HTTP before any model code is imported.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from modules.messages import msg

if TYPE_CHECKING:
    from modules.app import App

log = logging.getLogger(__name__)


def build(app: App) -> object:
    """The page as a gr.Blocks with its queue enabled (not serving yet)."""
    from modules.ui.blocks import build_ui

    demo = build_ui(app)
    demo.queue(default_concurrency_limit=1)
    return demo


def launch(app: App, demo: object) -> None:
    """Start serving demo on app.settings.host:port without blocking."""
    from modules.ui.theme import CSS, ui_theme

    logging.getLogger("httpx").setLevel(logging.WARNING)  # gradio's own start-up probe of the local URL
    settings = app.settings
    demo.launch(
        server_name=settings.host,
        server_port=settings.port,
        share=False,
        inbrowser=False,
        prevent_thread_lock=True,
        show_error=False,
        quiet=True,
        theme=ui_theme(),
        css=CSS,
        allowed_paths=[str(settings.outputs_dir)],
        footer_links=["settings"],
        run_history=False,
        enable_monitoring=False,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
    )


def serve(app: App, on_ready: Callable[[], None], stop: threading.Event | None = None) -> int:
    """Serve until Ctrl+C (or until stop is set); on_ready() is called once the page answers."""
    if app.settings.api or app.settings.nowebui:
        log.warning(msg("api_not_available"))
    demo = build(app)
    stop = stop or threading.Event()
    try:
        launch(app, demo)
        on_ready()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        log.info(msg("server_stopping"))
    finally:
        demo.close()
    return 0
