"""safe_join: names from requests never lead out of their folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modules.errors import UnsafePath
from modules.paths import is_inside, safe_join


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.safetensors").write_bytes(b"x")
    (tmp_path / "secret.txt").write_text("secret")
    return folder


@pytest.mark.parametrize("name", ["a.safetensors", "sub/a.safetensors", "sub\\a.safetensors", "./sub/a.safetensors",
                                  "sub/./a.safetensors", "new-file.png"])
def test_names_inside_the_folder_are_joined(root: Path, name: str) -> None:
    path = safe_join(root, name)
    assert is_inside(root, path) and path == (root / name.replace("\\", "/")).resolve()


@pytest.mark.parametrize("name", [
    "", "   ", "..", "../secret.txt", "sub/../../secret.txt", "sub/..", "..\\secret.txt", "sub\\..\\..\\secret.txt",
    "/etc/passwd", "\\etc\\passwd", "C:\\Windows\\win.ini", "c:/x", "a.safetensors\x00.png", "\x00", "x" * 2000,
])
def test_escapes_are_refused(root: Path, name: str) -> None:
    with pytest.raises(UnsafePath, match="not allowed"):
        safe_join(root, name)


def test_symlinks_that_lead_out_are_refused_and_inside_ones_allowed(root: Path) -> None:
    os.symlink(root.parent / "secret.txt", root / "link.txt")
    os.symlink(root.parent, root / "up")
    os.symlink(root / "sub" / "a.safetensors", root / "inside.safetensors")
    for name in ("link.txt", "up/secret.txt", "up"):
        with pytest.raises(UnsafePath):
            safe_join(root, name)
    assert safe_join(root, "inside.safetensors") == (root / "sub" / "a.safetensors").resolve()


def test_a_symlinked_root_is_fine(tmp_path: Path, root: Path) -> None:
    alias = tmp_path / "alias"
    os.symlink(root, alias)
    assert safe_join(alias, "sub/a.safetensors") == (root / "sub" / "a.safetensors").resolve()
    with pytest.raises(UnsafePath):
        safe_join(alias, "../secret.txt")


def test_is_inside(root: Path) -> None:
    assert is_inside(root, root / "sub" / "a.safetensors") and is_inside(root, root)
    assert not is_inside(root, root.parent / "secret.txt")
    assert not is_inside(root, root / ".." / "secret.txt")
