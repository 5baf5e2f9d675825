"""Stopping the server: a slow stop says in the log which step took the time."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.api.helpers import make_data_dir, running_server


def test_a_slow_stop_logs_each_step_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            caplog: pytest.LogCaptureFixture) -> None:
    import modules.server

    monkeypatch.setattr(modules.server, "SLOW_SHUTDOWN_S", 0.0)  # every stop counts as slow here
    caplog.set_level(logging.INFO, logger="modules.server")
    with running_server(make_data_dir(tmp_path)):
        pass
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "stopping took" in r.getMessage()]
    assert len(warnings) == 1, caplog.text
    for step in ("closing the page", "stopping the HTTP server", "interrupting the job"):
        assert step in warnings[0]


def test_a_quick_stop_logs_no_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="modules.server")
    with running_server(make_data_dir(tmp_path), "--nowebui"):
        pass
    assert not [r for r in caplog.records if "stopping took" in r.getMessage()], caplog.text
