"""Set up and start: `python launch.py` runs the web UI, `python launch.py --test` runs the test suite.

Creates (or reuses) the virtual environment .venv, installs requirements.txt there when it changed,
then runs webui.py (or pytest) with the venv's Python. Never imports torch itself.

On Linux and macOS the launcher then becomes that program (exec: same process id), so Ctrl+C, `kill`,
a service manager or `docker stop` reach webui.py itself and it stops as it would started directly.
Windows has no exec: there webui.py runs as a child in the same console, which hands Ctrl+C and
Ctrl+Break to the child itself; the launcher waits for it and ends it on any other stop request.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".requirements-sha256"
MIN_PYTHON = (3, 11)
CHROMIUM = Path("/usr/bin/chromium")


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def requirements_digest(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def check_python(version: tuple[int, ...] = tuple(sys.version_info)) -> None:
    """Exit with a clear message under a Python older than MIN_PYTHON."""
    if version[:2] < MIN_PYTHON:
        wanted = ".".join(map(str, MIN_PYTHON))
        sys.exit(f"Python {wanted} or newer is needed; this is Python {'.'.join(map(str, version[:3]))}. "
                 f"Install Python {wanted} and run `python{wanted} launch.py` with it.")


def ensure_environment(with_tests: bool) -> Path:
    """Make .venv and install the pinned requirements when they changed since the last install."""
    check_python()
    python = venv_python()
    if not python.exists():
        print(f"Creating virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    ui_files = [ROOT / "requirements.txt"]
    test_files = [*ui_files, ROOT / "requirements-test.txt"]
    files = test_files if with_tests else ui_files
    digest = requirements_digest(files)
    installed = STAMP.read_text().split() if STAMP.exists() else []
    # an install for the tests holds the UI's requirements too
    satisfied = {digest} if with_tests else {digest, requirements_digest(test_files)}
    if not satisfied & set(installed):
        print("Installing requirements (first start or requirements changed) ...", flush=True)
        cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        for f in files:
            cmd += ["-r", str(f)]
        if subprocess.call(cmd) != 0:
            sys.exit("Installing the requirements failed; see the pip output above.")
        # keep the stamp of the other set too, so switching between UI and tests does not reinstall
        STAMP.write_text("\n".join({digest, *installed}) + "\n")
    return python


def chromium_note(chromium: Path | None = None) -> str | None:
    """What to say before the tests when the browser the UI tests drive is missing, else None."""
    chromium = chromium or CHROMIUM
    if chromium.exists():
        return None
    return (f"Note: {chromium} is missing, so the browser tests are skipped here (under CI=true they fail). "
            "Install it with `sudo apt-get install chromium` on Debian/Ubuntu.")


def windows_forwards(signum: int) -> bool:
    """Windows: whether the launcher must pass a stop request on to its child. Ctrl+C and Ctrl+Break
    come from the console, which delivers them to every process attached to it, the child included:
    passing them on would make one Ctrl+C two (the second one gives up waiting for the current step)."""
    return signum not in (signal.SIGINT, getattr(signal, "SIGBREAK", signal.SIGINT))


def run_child(cmd: list[str], env: dict[str, str]) -> int:
    """Windows: run cmd as a child in this console and wait for it; the child's exit status."""
    child = subprocess.Popen(cmd, cwd=ROOT, env=env)

    def on_signal(signum: int, _frame: object) -> None:
        if windows_forwards(signum):
            child.terminate()

    names = ("SIGINT", "SIGBREAK", "SIGTERM")
    handled = [getattr(signal, n) for n in names if hasattr(signal, n)]
    previous = {s: signal.signal(s, on_signal) for s in handled}
    try:
        while True:
            try:
                return child.wait(0.5)  # a timeout, so that signal handlers get to run
            except subprocess.TimeoutExpired:
                pass
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def main(argv: list[str]) -> int:
    with_tests = "--test" in argv
    args = [a for a in argv if a != "--test"]
    python = ensure_environment(with_tests)
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    if with_tests:
        note = chromium_note()
        if note:
            print(note, flush=True)
        cmd = [str(python), "-m", "pytest", *args]
    else:
        cmd = [str(python), str(ROOT / "webui.py"), *args]
    if os.name == "nt":
        return run_child(cmd, env)
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(ROOT)
    os.execve(cmd[0], cmd, env)  # does not return: this process is now webui.py (or pytest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
