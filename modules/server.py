"""serve(app, on_ready): one HTTP server (uvicorn) for the web UI and the REST API until Ctrl+C.

One FastAPI app holds the /sdapi/v1 routes (with --api or --nowebui) and, unless --nowebui, the
Gradio page mounted at "/", so UI and API share the process, the App and its job queue.
--gradio-auth / --gradio-auth-path put Gradio's log-in in front of the page; --api-auth puts HTTP
Basic in front of every API route (compared in constant time).
Every request first passes modules/http_guards.py: a Host the server was not started for gets a 400
(DNS rebinding; --allowed-hosts adds names) and a request body that stalls gets a 408.

No share link, no analytics, no run history, no monitoring endpoint, and a theme with system fonts
only: the page and the server make no request to any other host. gradio, fastapi and uvicorn are
imported here, after the App exists, so `webui.py` answers HTTP before any model code is imported.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from modules.errors import UserError
from modules.messages import msg

if TYPE_CHECKING:
    from modules.api.auth import Credentials
    from modules.app import App
    from modules.settings import Settings

log = logging.getLogger(__name__)

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
SLOW_SHUTDOWN_S = 5.0  # a stop slower than this logs where its time went


def ui_credentials(settings: Settings) -> Credentials:
    """--gradio-auth pairs plus those of --gradio-auth-path (UserError when malformed or unreadable)."""
    from modules.api.auth import parse_credentials, read_credentials_file

    pairs = parse_credentials(settings.gradio_auth, "--gradio-auth") if settings.gradio_auth else []
    if settings.gradio_auth_path:
        pairs += read_credentials_file(settings.gradio_auth_path)
    return pairs


def api_credentials(settings: Settings) -> Credentials:
    from modules.api.auth import parse_credentials

    return parse_credentials(settings.api_auth, "--api-auth") if settings.api_auth else []


def build(app: App) -> Any:
    """The page as a gr.Blocks with its queue enabled (not serving yet)."""
    from modules.ui.blocks import build_ui

    demo = build_ui(app)
    demo.queue(default_concurrency_limit=1)
    return demo


def build_http_app(app: App, demo: Any | None) -> Any:
    """The FastAPI app: API routes when enabled, then the page (if any) mounted at '/'."""
    from fastapi import FastAPI

    settings = app.settings
    http_app = FastAPI(title="Stable Diffusion web UI", docs_url=None, redoc_url=None, openapi_url=None)
    if settings.api_enabled:
        from modules.api.service import install_api

        install_api(http_app, app, api_credentials(settings))
    if demo is not None:
        import gradio as gr

        from modules.api.auth import checker
        from modules.ui.prompt_tools import page_head
        from modules.ui.theme import CSS, ui_theme

        pairs = ui_credentials(settings)
        gr.mount_gradio_app(
            http_app, demo, path="/", server_name=settings.host, server_port=settings.port,
            auth=checker(pairs) if pairs else None, theme=ui_theme(), css=CSS, head=page_head(),
            allowed_paths=[str(settings.outputs_dir)], footer_links=["settings"], run_history=False,
            enable_monitoring=False, ssr_mode=False, pwa=False, mcp_server=False, show_error=False,
        )
    install_guards(http_app, settings)
    return http_app


def install_guards(http_app: Any, settings: Settings) -> None:
    """In front of everything (page and API), outermost first: the Host check, then the slow-body timeout."""
    from modules import http_guards

    http_app.add_middleware(http_guards.SlowBodyGuard, stall_timeout_s=http_guards.BODY_STALL_TIMEOUT_S)
    http_app.add_middleware(http_guards.HostCheck, policy=http_guards.settings_host_policy(settings))


class HttpServer:
    """uvicorn in a background thread; start() returns once it accepts connections."""

    def __init__(self, http_app: Any, host: str, port: int) -> None:
        import uvicorn

        config = uvicorn.Config(http_app, host=host, port=port, log_level="warning", access_log=False,
                                lifespan="on", timeout_graceful_shutdown=3, timeout_keep_alive=30)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="http-server", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.server.run()
        except BaseException as e:  # noqa: BLE001 - uvicorn exits with SystemExit when it cannot bind
            self.error = e

    def start(self, timeout: float = START_TIMEOUT_S) -> bool:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.started:
                return True
            if not self.thread.is_alive():
                return False
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(STOP_TIMEOUT_S)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(STOP_TIMEOUT_S)


def log_exposure(settings: Settings, has_ui_auth: bool) -> None:
    """Warnings a user sharing the app on the network must see."""
    if not settings.listen:
        return
    if not settings.nowebui and not has_ui_auth:
        log.warning(msg("listen_without_auth"))
    if not settings.extensions_allowed:
        log.info(msg("extensions_locked"))


def serve(app: App, on_ready: Callable[[], None], stop: threading.Event | None = None) -> int:
    """Serve until Ctrl+C (or until stop is set); on_ready() is called once the server answers."""
    settings = app.settings
    try:
        has_ui_auth = bool(ui_credentials(settings)) if not settings.nowebui else False
        api_credentials(settings)
    except UserError as e:
        log.error("%s", e)
        return 2
    demo = None if settings.nowebui else build(app)
    stop = stop or threading.Event()
    server: HttpServer | None = None
    try:
        server = HttpServer(build_http_app(app, demo), settings.host, settings.port)
        if not server.start():
            log.error(msg("port_in_use", host=settings.host, port=settings.port, error=server.error or "timeout"))
            return 1
        log_exposure(settings, has_ui_auth)
        app.extensions.callbacks.fire("app_started", app)  # extensions' on_app_started (errors are logged)
        if settings.api_enabled:
            log.info(msg("serving", what="REST API (/sdapi/v1, schema at /docs)", host=settings.host, port=settings.port))
        on_ready()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        log.info(msg("server_stopping"))
    finally:
        _shut_down(app, demo, server)
    return 0


def _shut_down(app: App, demo: Any, server: HttpServer | None) -> None:
    """Close the page, stop the HTTP server and interrupt the running job; a slow stop is logged with
    each step's time, so it says where the time went."""
    steps: list[tuple[str, Callable[[], object]]] = []
    if demo is not None:
        steps.append(("closing the page", lambda: demo.close(verbose=False)))
    if server is not None:
        steps.append(("stopping the HTTP server", server.stop))
    steps.append(("interrupting the job", app.jobs.interrupt))
    timings: list[str] = []
    started = time.monotonic()
    for name, step in steps:
        step_started = time.monotonic()
        step()
        timings.append(f"{name} {time.monotonic() - step_started:.1f}s")
    total = time.monotonic() - started
    if total > SLOW_SHUTDOWN_S:
        log.warning("stopping took %.1fs: %s", total, ", ".join(timings))
