"""Install an extension into extensions/ (in the data folder) from a git URL (git clone --depth 1) or a
folder on this machine (copied). Refused when the app is shared with --listen without
--enable-insecure-extension-access. The new folder is made under a hidden temporary name and renamed
only once it holds an extension.py, so a failed install leaves nothing behind. Loaded at the next start.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

from modules.errors import UserError
from modules.extensions.git_info import git_env
from modules.extensions.loader import ENTRY
from modules.messages import msg
from modules.settings import Settings

CLONE_TIMEOUT_S = 300.0
URL_SCHEMES = ("https://", "http://", "git://", "ssh://", "file://")
SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:[^/\\].*$")  # git@github.com:user/repo.git
FOLDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$")


class InstallError(UserError):
    """An install that cannot be done; the message says why and what to do."""


def is_git_url(source: str) -> bool:
    return source.lower().startswith(URL_SCHEMES) or bool(SCP_LIKE.match(source))


def default_name(source: str) -> str:
    """The folder name a source gets: its last path part, without .git."""
    tail = re.split(r"[/\\:]", source.rstrip("/\\"))[-1]
    return tail.removesuffix(".git")


def check_name(name: str) -> str:
    name = name.strip()
    if not FOLDER_NAME.match(name) or name.endswith((".", " ")):
        raise InstallError(msg("extension_bad_name", name=name[:100]))
    return name


def install_extension(settings: Settings, source: str, name: str = "", branch: str = "",
                      timeout: float = CLONE_TIMEOUT_S) -> Path:
    """Install source (git URL or folder) as extensions/<name>; returns the new folder. InstallError says why
    not (locked, bad source or name, folder exists, clone or copy failed, no extension.py)."""
    if not settings.extensions_allowed:
        raise InstallError(msg("extensions_locked"))
    source = source.strip()
    local = Path(source).expanduser() if source and not is_git_url(source) else None
    if not source or (local is not None and not local.is_dir()):
        raise InstallError(msg("extension_bad_source", source=source[:300]))
    name = check_name(name or default_name(source))
    root = settings.extensions_path
    target = root / name
    if target.exists():
        raise InstallError(msg("extension_exists", name=name, folder=root))
    root.mkdir(parents=True, exist_ok=True)
    partial = root / f".installing-{name}-{uuid.uuid4().hex[:8]}"
    try:
        if local is not None:
            _copy(local, partial, root)
        else:
            _clone(source, branch.strip(), partial, root, timeout)
        if not (partial / ENTRY).is_file():
            raise InstallError(msg("extension_not_extension", source=source[:300]))
        partial.rename(target)
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
    return target


def _copy(source: Path, partial: Path, root: Path) -> None:
    try:
        shutil.copytree(source, partial, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    except (OSError, shutil.Error) as e:
        raise InstallError(msg("extension_copy_failed", source=source, folder=root, error=str(e)[:300])) from None


def _clone(url: str, branch: str, partial: Path, root: Path, timeout: float) -> None:
    command = ["git", "clone", "--depth", "1", *(["--branch", branch] if branch else []), "--", url, str(partial)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=git_env(), check=False,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise InstallError(msg("extension_git_missing")) from None
    except subprocess.TimeoutExpired:
        raise InstallError(msg("extension_git_timeout", url=url, seconds=int(timeout), folder=root)) from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise InstallError(msg("extension_git_failed", url=url, error=(lines[-1] if lines else f"exit {done.returncode}")[:300]))
