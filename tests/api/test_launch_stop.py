"""`kill <launch.py pid>` (a service manager, `docker stop`) stops the server in order and frees its port:
launch.py is the server's own process, not a parent that dies and leaves webui.py running."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.api.helpers import free_port
from tests.launch_root import make_launch_root


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals: on Windows launch.py keeps a child (tests/unit/test_launch.py)")
def test_sigterm_to_launch_py_stops_the_server_and_frees_the_port(tmp_path: Path) -> None:
    root, port = make_launch_root(tmp_path), free_port()
    log = tmp_path / "server.log"
    command = [sys.executable, str(root / "launch.py"), "--data-dir", str(tmp_path / "data"), "--port", str(port),
               "--device", "cpu", "--no-demo-model", "--nowebui"]
    with log.open("w") as out:  # a session of its own: the cleanup below reaches a child left running too
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        deadline = time.monotonic() + 90
        while not _answers(port) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _answers(port), log.read_text()
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(30)
        deadline = time.monotonic() + 10
        while _answers(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _answers(port), "the server still holds the port after SIGTERM to launch.py"
        text = log.read_text()
        assert "Stopping the web UI." in text, text  # stopped in order, as on Ctrl+C, not killed
        assert "Installing requirements" not in text  # a prepared .venv: no pip run
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
