"""Set up and start: `python launch.py` runs the web UI, `python launch.py --test` runs the test suite.

Creates (or reuses) the virtual environment .venv, installs requirements.txt there when it changed,
then runs webui.py (or pytest) with the venv's Python. Never imports torch itself.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".requirements-sha256"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def requirements_digest(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def ensure_environment(with_tests: bool) -> Path:
    """Make .venv and install the pinned requirements when they changed since the last install."""
    if sys.version_info < (3, 10):  # noqa: UP036 - launch.py may run under an older system Python
        sys.exit(f"Python 3.10 or newer is needed (this is {sys.version.split()[0]}).")
    python = venv_python()
    if not python.exists():
        print(f"Creating virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    files = [ROOT / "requirements.txt"] + ([ROOT / "requirements-test.txt"] if with_tests else [])
    digest = requirements_digest(files)
    installed = STAMP.read_text().split() if STAMP.exists() else []
    if digest not in installed:
        print("Installing requirements (first start or requirements changed) ...", flush=True)
        cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        for f in files:
            cmd += ["-r", str(f)]
        if subprocess.call(cmd) != 0:
            sys.exit("Installing the requirements failed; see the pip output above.")
        # keep the stamp of the other set too, so switching between UI and tests does not reinstall
        STAMP.write_text("\n".join({digest, *installed}) + "\n")
    return python


def main(argv: list[str]) -> int:
    with_tests = "--test" in argv
    args = [a for a in argv if a != "--test"]
    python = ensure_environment(with_tests)
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    if with_tests:
        cmd = [str(python), "-m", "pytest", *args]
    else:
        cmd = [str(python), str(ROOT / "webui.py"), *args]
    try:
        return subprocess.call(cmd, cwd=ROOT, env=env)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
