"""Helpers for the API tests: a real server (serve() in a thread on 127.0.0.1, a free port) around tiny checkpoints.

    with running_server(data_dir, "--nowebui") as served:
        httpx.get(served.url + "/sdapi/v1/sd-models")

The model is loaded before the server starts, so tests never race the background load.
"""

from __future__ import annotations

import base64
import contextlib
import io
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SMALL = {"width": 64, "height": 64, "steps": 2}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    url: str
    app: Any
    data_dir: Path


@contextlib.contextmanager
def running_server(data_dir: Path, *flags: str) -> Iterator[Served]:
    from modules.app import build_app
    from modules.cli import parse_settings
    from modules.server import serve

    port = free_port()
    app = build_app(parse_settings(["--data-dir", str(data_dir), "--port", str(port), "--device", "cpu", "--no-demo-model",
                                     *flags]))
    app.load_default_model()
    stop, ready = threading.Event(), threading.Event()
    outcome: dict[str, int] = {}

    def run() -> None:
        outcome["rc"] = serve(app, ready.set, stop=stop)
        ready.set()

    thread = threading.Thread(target=run, name="test-api-server", daemon=True)
    thread.start()
    assert ready.wait(60) and "rc" not in outcome, f"the server did not start (rc={outcome.get('rc')})"
    try:
        yield Served(f"http://127.0.0.1:{port}", app, data_dir)
    finally:
        stop.set()
        thread.join(30)
        assert not thread.is_alive(), "the server did not stop"


def make_data_dir(root: Path, names: tuple[str, ...] = ("tiny-sd1",)) -> Path:
    """root/data with models/Stable-diffusion/<name>.safetensors (tiny sd1 models, seeds 0, 1, ...)."""
    from tests.tiny_models import write_tiny_checkpoint

    folder = root / "data"
    checkpoints = folder / "models" / "Stable-diffusion"
    checkpoints.mkdir(parents=True)
    for seed, name in enumerate(names):
        write_tiny_checkpoint(checkpoints, "sd1", name=name, seed=seed)
    return folder


def png_text(b64: str) -> str:
    """The 'parameters' chunk of a base64 PNG."""
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(b64))) as image:
        assert image.format == "PNG"
        return image.text.get("parameters", "")
