"""What the model folders hold, in the shapes of A1111's list routes. Plain folder scans, no loading.

VAEs and embeddings come from app.networks (embeddings checked against the loaded model, with the
reason a file is skipped); LoRA metadata comes from safetensors headers, read without loading tensors.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modules.app import App

log = logging.getLogger(__name__)



def sd_models(app: App) -> list[dict[str, Any]]:
    return [
        {"title": c.title, "model_name": Path(c.name.replace("/", "_").replace("\\", "_")).stem if c.path.is_file()
         else c.name.replace("/", "_"), "hash": c.shorthash, "sha256": c.sha256, "filename": str(c.path),
         "config": None}
        for c in app.folders.checkpoints()
    ]


def sd_vaes(app: App) -> list[dict[str, Any]]:
    return [{"model_name": f.name, "filename": str(f.path)} for f in app.networks.vaes.files()]


def embeddings(app: App) -> dict[str, dict[str, Any]]:
    """Loaded and skipped embeddings (A1111 shape: width of all encoders together, vector count)."""
    db = app.networks.embeddings
    model = app.models.current
    if model is not None:
        db.ensure_for(model)
    else:
        db.load(None)
    loaded = {name: {"step": e.step, "sd_checkpoint": None, "sd_checkpoint_name": None,
                     "shape": sum(e.widths.values()), "vectors": e.vector_count} for name, e in db.loaded().items()}
    skipped = {name: {"step": None, "sd_checkpoint": None, "sd_checkpoint_name": None, "shape": e.shape,
                      "vectors": e.vectors} for name, e in db.skipped().items()}
    return {"loaded": loaded, "skipped": skipped}


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
    from modules.styles import apply_named_styles

    return apply_named_styles(app.settings.data_dir, prompt, negative, names)


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
