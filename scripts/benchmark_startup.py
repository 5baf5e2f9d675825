"""Print how long `python webui.py` takes until the page answers HTTP 200 (median of N starts).

Usage: .venv/bin/python scripts/benchmark_startup.py [--runs 5]
Uses a temporary data dir with no checkpoint, so only the UI start is measured.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_start(data_dir: Path) -> float:
    port = free_port()
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(ROOT / "webui.py"), "--data-dir", str(data_dir), "--port", str(port),
                             "--device", "cpu"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.monotonic() - start < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                    if r.status == 200:
                        return time.monotonic() - start
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        raise TimeoutError("the page did not answer within 120 s")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        times = [one_start(Path(tmp)) for _ in range(args.runs)]
    print("start-up to HTTP 200 (s): " + ", ".join(f"{t:.2f}" for t in times))
    print(f"median {statistics.median(times):.2f} s, best {min(times):.2f} s over {len(times)} runs")


if __name__ == "__main__":
    main()
