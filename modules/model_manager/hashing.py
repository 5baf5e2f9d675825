"""A1111 model hashes: full-file SHA-256 short hash (10 hex) and the legacy 8-hex 'model hash'."""

from __future__ import annotations

import hashlib
from pathlib import Path

BLOCK = 1 << 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(BLOCK):
            h.update(chunk)
    return h.hexdigest()


def legacy_model_hash(path: Path) -> str:
    """SHA-256 of 64 KiB read at offset 1 MiB, first 8 hex digits ('NOFILE' when unreadable)."""
    try:
        with open(path, "rb") as f:
            f.seek(0x100000)
            return hashlib.sha256(f.read(0x10000)).hexdigest()[:8]
    except OSError:
        return "NOFILE"


def sha256_folder(path: Path) -> str:
    """Hash of a diffusers folder: every file's relative name and bytes, in sorted order."""
    h = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(str(file.relative_to(path)).encode())
        with open(file, "rb") as f:
            while chunk := f.read(BLOCK):
                h.update(chunk)
    return h.hexdigest()
