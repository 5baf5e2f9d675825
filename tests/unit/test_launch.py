"""launch.py: installs when requirements change, not otherwise, and never imports torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import launch

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    (tmp_path / "requirements.txt").write_text("pillow\n")
    (tmp_path / "requirements-test.txt").write_text("pytest\n")
    venv = tmp_path / ".venv"
    python = venv / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")  # pretend the venv exists
    monkeypatch.setattr(launch, "ROOT", tmp_path)
    monkeypatch.setattr(launch, "VENV", venv)
    monkeypatch.setattr(launch, "STAMP", venv / ".requirements-sha256")
    calls: list[list[str]] = []
    monkeypatch.setattr(launch.subprocess, "call", lambda cmd, **kw: calls.append(cmd) or 0)
    return calls


def _installs(calls: list[list[str]]) -> int:
    return sum(1 for c in calls if "pip" in c and "install" in c)


def test_installs_once_then_starts_without_installing(fake_project: list[list[str]]) -> None:
    launch.ensure_environment(with_tests=False)
    launch.ensure_environment(with_tests=False)
    assert _installs(fake_project) == 1


def test_a_requirements_change_reinstalls(fake_project: list[list[str]]) -> None:
    launch.ensure_environment(with_tests=False)
    (launch.ROOT / "requirements.txt").write_text("pillow==12.3.0\n")
    launch.ensure_environment(with_tests=False)
    assert _installs(fake_project) == 2


def test_test_mode_adds_test_requirements_and_keeps_both_stamps(fake_project: list[list[str]]) -> None:
    launch.ensure_environment(with_tests=False)
    launch.ensure_environment(with_tests=True)
    assert "requirements-test.txt" in " ".join(fake_project[-1])
    launch.ensure_environment(with_tests=False)
    launch.ensure_environment(with_tests=True)
    assert _installs(fake_project) == 2


def test_launch_does_not_import_torch() -> None:
    code = "import sys, launch; assert 'torch' not in sys.modules and 'gradio' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_torch_is_pinned() -> None:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    assert "torch==2.13.0" in lines
