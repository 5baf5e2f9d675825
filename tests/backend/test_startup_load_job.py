"""The start-up model load is a job in the app's queue, like every other model change: it waits for the job
before it, and a generation asked for meanwhile waits for it."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import webui


def test_the_startup_load_waits_its_turn_in_the_queue(make_app) -> None:  # noqa: ANN001
    app: Any = make_app(("sd1",), load=False)
    release = threading.Event()
    blocker = app.jobs.submit("long job", lambda _p: release.wait(30))
    webui._after_start(app, time.monotonic(), logging.getLogger("webui"))
    try:
        assert [job.name for job in app.jobs.jobs()] == ["long job", "load-checkpoint"]
        assert app.models.current_info is None, "the load waits for the job before it"
    finally:
        release.set()
    assert blocker.wait(30) and app.jobs.wait_idle(60)
    assert app.models.current_info is not None and app.models.current_info.name.startswith("tiny-sd1")
