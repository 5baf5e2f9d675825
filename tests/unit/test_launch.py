"""launch.py: installs when requirements change, not otherwise, and never imports torch."""

from __future__ import annotations

import signal
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


def test_the_ui_after_the_tests_does_not_reinstall(fake_project: list[list[str]]) -> None:
    launch.ensure_environment(with_tests=True)  # installs requirements.txt and requirements-test.txt
    launch.ensure_environment(with_tests=False)
    assert _installs(fake_project) == 1


@pytest.mark.parametrize("version", [(3, 10, 12), (3, 9, 0), (2, 7, 18)])
def test_an_older_python_is_refused_with_a_clear_message(version: tuple[int, int, int]) -> None:
    with pytest.raises(SystemExit) as stop:
        launch.check_python(version)
    text = str(stop.value.code)
    assert "Python 3.11 or newer is needed" in text and ".".join(map(str, version)) in text


def test_python_3_11_is_accepted() -> None:
    launch.check_python((3, 11, 7))
    launch.check_python((3, 13, 0))


def test_readme_pyproject_and_launch_name_the_same_python() -> None:
    assert launch.MIN_PYTHON == (3, 11)
    assert 'requires-python = ">=3.11"' in (ROOT / "pyproject.toml").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "Python 3.11" in readme and "Python 3.10" not in readme


def test_posix_start_replaces_the_launcher_with_webui(fake_project: list[list[str]], monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    execs: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(launch.os, "name", "posix")
    monkeypatch.setattr(launch.os, "chdir", lambda path: None)
    monkeypatch.setattr(launch.os, "execve", lambda exe, cmd, env: execs.append((exe, cmd)))
    launch.main(["txt2img", "a circle"])
    python = str(tmp_path / ".venv" / "bin" / "python")
    assert execs == [(python, [python, str(tmp_path / "webui.py"), "txt2img", "a circle"])]
    assert _installs(fake_project) == 1 and len(fake_project) == 1  # the install, and no child process


def test_the_test_run_says_how_to_get_chromium_when_it_is_missing(fake_project: list[list[str]],
                                                                  monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(launch, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setattr(launch.os, "chdir", lambda path: None)
    monkeypatch.setattr(launch.os, "execve", lambda exe, cmd, env: None)
    launch.main(["--test", "-k", "infotext"])
    out = capsys.readouterr().out
    assert "no-chromium is missing" in out and "apt-get install chromium" in out and "CI=true" in out
    assert launch.chromium_note(ROOT / "launch.py") is None  # a file that exists: nothing to say


class FakeChild:
    """A Popen stand-in: each wait() first delivers the next signal to the launcher's handler."""

    def __init__(self, signals: list[int]) -> None:
        self.signals = signals
        self.terminated = 0

    def wait(self, timeout: float) -> int:
        if not self.signals:
            return 3
        signum = self.signals.pop(0)
        handler = signal.getsignal(signum)
        assert callable(handler)
        handler(signum, None)
        raise subprocess.TimeoutExpired("webui.py", timeout)

    def terminate(self) -> None:
        self.terminated += 1


def test_windows_child_gets_stop_requests_but_not_a_second_ctrl_c(monkeypatch: pytest.MonkeyPatch) -> None:
    before = signal.getsignal(signal.SIGINT)
    child = FakeChild([signal.SIGINT, signal.SIGINT])
    monkeypatch.setattr(launch.subprocess, "Popen", lambda cmd, **kw: child)
    assert launch.run_child(["python", "webui.py"], {}) == 3  # Ctrl+C: the console gave it to the child too
    assert child.terminated == 0 and signal.getsignal(signal.SIGINT) is before

    child = FakeChild([signal.SIGINT, signal.SIGTERM])
    monkeypatch.setattr(launch.subprocess, "Popen", lambda cmd, **kw: child)
    assert launch.run_child(["python", "webui.py"], {}) == 3
    assert child.terminated == 1
    assert not launch.windows_forwards(signal.SIGINT) and launch.windows_forwards(signal.SIGTERM)
