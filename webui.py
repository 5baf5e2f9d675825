"""Start the web UI: parse flags → Settings → App → serve. The page is up before any model loads.

`webui.py txt2img ...` and `webui.py img2img ...` generate from the command line instead
(modules/cli_generate.py) on the same backend.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time


def _offline_environment() -> None:
    """The app makes no outbound requests of its own: no analytics, no hub look-ups."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("DISABLE_TELEMETRY", "1")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def _stop_on_sigterm() -> None:
    """SIGTERM (`kill`, a service manager, `docker stop`) stops the way Ctrl+C does: the server shuts
    down in order, a command finishes its step and lists the images already saved."""

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def main(argv: list[str] | None = None) -> int:
    start = time.monotonic()
    _offline_environment()
    _stop_on_sigterm()
    argv = sys.argv[1:] if argv is None else argv
    from modules.cli_generate import COMMANDS

    if argv and argv[0] in COMMANDS:
        from modules.cli_generate import main as generate

        # only warnings and errors: the command prints its own progress, and the image paths on stdout
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        return generate(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("webui")

    from modules.app import build_app
    from modules.cli import parse_settings

    settings = parse_settings(argv)
    app = build_app(settings)
    from modules.server import serve

    return serve(app, on_ready=lambda: _after_start(app, start, log))


def _after_start(app, start: float, log: logging.Logger) -> None:  # noqa: ANN001
    log.info("%s ready at http://%s:%d in %.1fs; loading the model in the background",
             "API" if app.settings.nowebui else "UI", app.settings.host, app.settings.port, time.monotonic() - start)
    # a job like every other model change: generations queued meanwhile wait for it, /progress shows it
    app.jobs.submit("load-checkpoint", lambda _progress: app.load_default_model())
    threading.Thread(target=_tidy_outputs, args=(app, log), name="outputs-tidy", daemon=True).start()


def _tidy_outputs(app, log: logging.Logger) -> None:  # noqa: ANN001
    """Remove temp files a killed run left in outputs/ (never a finished image)."""
    from modules.generation.outputs import remove_leftovers

    removed = remove_leftovers(app.settings.outputs_dir)
    if removed:
        log.info("removed %d unfinished temp file(s) left in %s by an earlier run", len(removed), app.settings.outputs_dir)


if __name__ == "__main__":
    sys.exit(main())
