"""What the model folders hold, in the shapes of A1111's list routes. Plain folder scans, no loading.

LoRA, embedding, hypernetwork and VAE loaders are not part of this version; these lists say which
files are there (LoRA metadata and embedding sizes come from safetensors headers, which are read
without loading any tensor). Embeddings are reported under "skipped" until a loader uses them.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modules.errors import CheckpointLoadError, InvalidParams
from modules.messages import msg

if TYPE_CHECKING:
    from modules.app import App

log = logging.getLogger(__name__)

VAE_SUFFIXES = (".safetensors", ".pt", ".ckpt")
NETWORK_SUFFIXES = (".safetensors", ".pt", ".ckpt")
EMBEDDING_SUFFIXES = (".safetensors", ".pt", ".bin")
MAX_FILES = 10_000


def model_files(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Files under root with these suffixes (recursive, hidden folders skipped), sorted, at most MAX_FILES."""
    if not root.is_dir():
        return []
    found: list[Path] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix.lower() in suffixes:
            found.append(path)
            if len(found) >= MAX_FILES:
                break
    return found


def sd_models(app: App) -> list[dict[str, Any]]:
    return [
        {"title": c.title, "model_name": Path(c.name.replace("/", "_").replace("\\", "_")).stem if c.path.is_file()
         else c.name.replace("/", "_"), "hash": c.shorthash, "sha256": c.sha256, "filename": str(c.path),
         "config": None}
        for c in app.folders.checkpoints()
    ]


def sd_vaes(app: App) -> list[dict[str, Any]]:
    root = app.settings.vae_path
    return [{"model_name": p.relative_to(root).as_posix(), "filename": str(p)} for p in model_files(root, VAE_SUFFIXES)]


def _header_metadata(path: Path) -> dict[str, Any]:
    if path.suffix.lower() != ".safetensors":
        return {}
    from modules.model_manager.checkpoint_files import read_safetensors_metadata

    try:
        return dict(read_safetensors_metadata(path))
    except CheckpointLoadError:
        return {}


def loras(app: App) -> list[dict[str, Any]]:
    items = []
    for path in model_files(app.settings.lora_path, NETWORK_SUFFIXES):
        metadata = _header_metadata(path)
        items.append({"name": path.stem, "alias": str(metadata.get("ss_output_name") or path.stem),
                      "path": str(path), "metadata": metadata})
    return items


def hypernetworks(app: App) -> list[dict[str, Any]]:
    return [{"name": p.stem, "path": str(p)} for p in model_files(app.settings.hypernetwork_path, NETWORK_SUFFIXES)]


def _embedding_shape(path: Path) -> tuple[int | None, int | None]:
    """(vector width, vector count) from a safetensors header, or (None, None)."""
    if path.suffix.lower() != ".safetensors":
        return None, None
    from modules.model_manager.checkpoint_files import _read_header

    try:
        header = _read_header(path)
    except CheckpointLoadError:
        return None, None
    shapes = [v.get("shape") for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)]
    shapes = [s for s in shapes if isinstance(s, list) and len(s) == 2]
    return (int(shapes[0][1]), int(shapes[0][0])) if shapes else (None, None)


def embeddings(app: App) -> dict[str, dict[str, Any]]:
    skipped: dict[str, Any] = {}
    for path in model_files(app.settings.embeddings_path, EMBEDDING_SUFFIXES):
        shape, vectors = _embedding_shape(path)
        skipped[path.stem] = {"step": None, "sd_checkpoint": None, "sd_checkpoint_name": None, "shape": shape,
                              "vectors": vectors}
    return {"loaded": {}, "skipped": skipped}


def prompt_styles(app: App) -> list[dict[str, str]]:
    """styles.csv in the data folder (modules/styles.py reads it)."""
    from modules.styles import StyleStore

    try:
        styles = StyleStore.in_data_dir(app.settings.data_dir).load()
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        log.warning("could not read styles.csv: %s", e)
        return []
    return [{"name": s.name, "prompt": s.prompt, "negative_prompt": s.negative_prompt} for s in styles]


def apply_styles(app: App, prompt: str, negative: str, names: list[str]) -> tuple[str, str]:
    """Prompt and negative prompt with the named styles applied in order; InvalidParams for an unknown name."""
    if not names:
        return prompt, negative
    from modules.styles import StyleStore
    from modules.styles import apply_styles as merge

    known = {s.name: s for s in StyleStore.in_data_dir(app.settings.data_dir).load()}
    for name in names:
        if name not in known:
            raise InvalidParams(msg("unknown_style", name=name[:100]))
    return merge(prompt, negative, [known[name] for name in names])


def memory() -> dict[str, Any]:
    """RAM (bytes) and, when CUDA is there, torch's allocator statistics, in A1111's shape."""
    try:
        import psutil

        vm = psutil.virtual_memory()
        ram: dict[str, Any] = {"free": vm.available, "used": vm.total - vm.available, "total": vm.total}
    except Exception as e:  # noqa: BLE001 - memory figures are best effort
        ram = {"error": str(e)}
    try:
        import torch

        if not torch.cuda.is_available():
            return {"ram": ram, "cuda": {"error": "unavailable"}}
        free, total = torch.cuda.mem_get_info()
        s = torch.cuda.memory_stats()
        cuda = {
            "system": {"free": free, "used": total - free, "total": total},
            "active": {"current": s.get("active_bytes.all.current", 0), "peak": s.get("active_bytes.all.peak", 0)},
            "allocated": {"current": s.get("allocated_bytes.all.current", 0),
                          "peak": s.get("allocated_bytes.all.peak", 0)},
            "reserved": {"current": s.get("reserved_bytes.all.current", 0), "peak": s.get("reserved_bytes.all.peak", 0)},
            "inactive": {"current": s.get("inactive_split_bytes.all.current", 0),
                         "peak": s.get("inactive_split_bytes.all.peak", 0)},
            "events": {"retries": s.get("num_alloc_retries", 0), "oom": s.get("num_ooms", 0)},
        }
    except Exception as e:  # noqa: BLE001
        cuda = {"error": str(e)}
    return {"ram": ram, "cuda": cuda}
