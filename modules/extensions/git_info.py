"""An extension's git facts for GET /sdapi/v1/extensions (A1111's remote, branch, commit, date), read with
the git program; a folder that is not a git clone (or no git) gives the empty facts, as A1111 does."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

GIT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class GitInfo:
    remote: str | None = None
    branch: str | None = None
    commit_hash: str = ""
    commit_date: int | None = None  # seconds since 1970 (the commit's date)

    @property
    def version(self) -> str:
        return self.commit_hash[:8]


def git_env() -> dict[str, str]:
    """The environment for git: never asks for a password on a terminal."""
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "echo"}


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT_S,
                              env=git_env(), check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def read_git_info(folder: Path) -> GitInfo:
    """The clone's facts; only a folder with its own .git is asked (never the project's repository)."""
    if not (folder / ".git").exists():
        return GitInfo()
    head = (_git(folder, "log", "-1", "--format=%H %ct") or "").split()
    branch = _git(folder, "rev-parse", "--abbrev-ref", "HEAD")
    return GitInfo(remote=_git(folder, "config", "--get", "remote.origin.url") or None,
                   branch=branch if branch and branch != "HEAD" else None,
                   commit_hash=head[0] if head else "",
                   commit_date=int(head[1]) if len(head) == 2 and head[1].isdigit() else None)
