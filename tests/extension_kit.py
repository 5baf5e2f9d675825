"""Helpers for the extension tests: write an extension folder, make a local git repository of one."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = PROJECT_ROOT / "docs" / "examples" / "extension-example"

GIT_USER = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid", "-c", "init.defaultBranch=main",
            "-c", "commit.gpgsign=false"]


def write_extension(root: Path, name: str, code: str, files: dict[str, str] | None = None) -> Path:
    """root/name/extension.py holding code (dedented); files: more files by name ({'helper.py': '...'})."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "extension.py").write_text(textwrap.dedent(code), encoding="utf-8")
    for file_name, text in (files or {}).items():
        (folder / file_name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", *GIT_USER, "-C", str(folder), *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def git_repository(folder: Path, code: str, branch: str = "main") -> str:
    """A git repository at folder with one commit holding extension.py (code); returns the commit hash."""
    folder.mkdir(parents=True, exist_ok=True)
    git(folder, "init", "-q", "-b", branch)
    (folder / "extension.py").write_text(textwrap.dedent(code), encoding="utf-8")
    git(folder, "add", "extension.py")
    git(folder, "commit", "-q", "-m", "an extension")
    return git(folder, "rev-parse", "HEAD")
