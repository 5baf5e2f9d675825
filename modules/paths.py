"""safe_join(root, name): a file name from a request, as a path that stays inside root.

Pure path logic plus one resolve() (to see where symlinks lead); nothing is created or opened.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from modules.errors import UnsafePath
from modules.messages import msg

_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_NAME = 1024


def safe_join(root: Path, name: str) -> Path:
    """root/name, resolved, refusing anything that would leave root.

    Refused with UnsafePath: empty names, NUL bytes, absolute paths (/x, \\x, C:x), any '..' part
    (also with backslashes), and names whose resolved path (after symlinks) is outside root. The
    resolved root may itself be a symlink; only where the name leads matters.
    """
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise UnsafePath(msg("unsafe_path", name=str(name)[:80]))
    if "\x00" in name:
        raise UnsafePath(msg("unsafe_path", name=name.replace("\x00", "\\0")[:80]))
    posix = name.replace("\\", "/")
    if posix.startswith("/") or _DRIVE.match(posix):
        raise UnsafePath(msg("unsafe_path", name=name[:80]))
    parts = PurePosixPath(posix).parts
    if any(part == ".." for part in parts):
        raise UnsafePath(msg("unsafe_path", name=name[:80]))
    base = Path(root).resolve()
    target = base.joinpath(*parts).resolve()
    if target != base and not target.is_relative_to(base):
        raise UnsafePath(msg("unsafe_path", name=name[:80]))
    return target


def is_inside(root: Path, path: Path) -> bool:
    """Whether path (after resolving symlinks) is root or lies under it."""
    base = Path(root).resolve()
    target = Path(path).resolve()
    return target == base or target.is_relative_to(base)
