"""The model folders: what checkpoints exist, under which names, with their A1111 hashes."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from modules.model_manager.hashing import sha256_file, sha256_folder

CHECKPOINT_SUFFIXES = (".safetensors", ".ckpt")
DEMO_CHECKPOINT = "demo-shapes.safetensors"  # the built-in demo model, at the top of the checkpoint folder
VAE_SUFFIXES = (".safetensors", ".pt", ".ckpt")


@dataclass(frozen=True)
class CheckpointInfo:
    name: str  # path relative to its folder, e.g. "anime/model.safetensors"
    path: Path
    sha256: str

    @property
    def shorthash(self) -> str:
        return self.sha256[:10]

    @property
    def stem(self) -> str:
        """What A1111 writes as 'Model:' in infotext (file name without extension)."""
        return Path(self.name).stem if self.path.is_file() else Path(self.name).name

    @property
    def is_demo(self) -> bool:
        """The built-in demo model (docs/demo-model.md), which only loads when there is no other checkpoint."""
        return self.name == DEMO_CHECKPOINT

    @property
    def title(self) -> str:
        """'name [shorthash]', the label in the checkpoint list."""
        return f"{self.name} [{self.shorthash}]"

    def matches(self, query: str) -> bool:
        """A1111 lookup: by title, name, stem, short hash or full sha256."""
        q = query.strip()
        return q in {self.title, self.name, self.stem, self.shorthash, self.sha256, str(self.path)} or (
            len(q) >= 8 and self.sha256.startswith(q))


class HashCache:
    """sha256 per file, kept in <data_dir>/cache/hashes.json and keyed by path, size and mtime."""

    def __init__(self, file: Path) -> None:
        self._file = file
        self._lock = threading.Lock()
        try:
            self._data: dict[str, dict[str, object]] = json.loads(file.read_text())
        except (OSError, ValueError):
            self._data = {}

    def sha256(self, path: Path) -> str:
        stat = path.stat()
        key = str(path.resolve())
        stamp = {"size": stat.st_size, "mtime": stat.st_mtime}
        with self._lock:
            entry = self._data.get(key)
            if entry and entry.get("size") == stamp["size"] and entry.get("mtime") == stamp["mtime"]:
                return str(entry["sha256"])
        digest = sha256_folder(path) if path.is_dir() else sha256_file(path)
        with self._lock:
            self._data[key] = {**stamp, "sha256": digest}
            self._save()
        return digest

    def _save(self) -> None:
        try:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self._file.with_suffix(".tmp")
            tmp.write_text(json.dumps(self._data, indent=1))
            tmp.replace(self._file)
        except OSError:
            pass  # a cache that cannot be written only costs time


def _is_diffusers_folder(path: Path) -> bool:
    return path.is_dir() and (path / "model_index.json").is_file()


class ModelFolders:
    """Scans checkpoint folders (recursively, like A1111) and keeps the last scan's result."""

    def __init__(self, checkpoint_dirs: list[Path], hash_cache: HashCache, extra_files: list[Path] | None = None) -> None:
        self.checkpoint_dirs = checkpoint_dirs
        self.extra_files = extra_files or []
        self.hashes = hash_cache
        self._checkpoints: list[CheckpointInfo] = []
        self._lock = threading.Lock()

    def _candidates(self) -> list[tuple[str, Path]]:
        found: list[tuple[str, Path]] = []
        for root in self.checkpoint_dirs:
            if not root.is_dir():
                continue
            for path in sorted(root.rglob("*")):
                rel = path.relative_to(root)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if any(_is_diffusers_folder(parent) for parent in path.parents if root in parent.parents):
                    continue  # a file inside a diffusers folder is not a checkpoint of its own
                if (path.is_file() and path.suffix.lower() in CHECKPOINT_SUFFIXES) or _is_diffusers_folder(path):
                    found.append((rel.as_posix(), path))
        names = {name for name, _ in found}
        for path in self.extra_files:
            if path.exists() and path.name not in names:  # a file of the same name in the folders wins
                found.append((path.name, path))
                names.add(path.name)
        return found

    def scan(self) -> list[CheckpointInfo]:
        """Re-read the folders. Files that vanish or cannot be read are left out."""
        infos: list[CheckpointInfo] = []
        seen: set[Path] = set()
        for name, path in self._candidates():
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            try:
                infos.append(CheckpointInfo(name=name, path=path, sha256=self.hashes.sha256(path)))
            except OSError:
                continue
        with self._lock:
            self._checkpoints = infos
        return infos

    def checkpoints(self) -> list[CheckpointInfo]:
        with self._lock:
            return list(self._checkpoints)

    def find_checkpoint(self, query: str) -> CheckpointInfo | None:
        for info in self.checkpoints():
            if info.matches(query):
                return info
        return None
