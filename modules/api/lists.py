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
    return network_items(app, "vae")


def network_items(app: App, kind: str, refresh: bool = False) -> list[dict[str, Any]]:
    """A registered network kind's items in its A1111 list shape (/loras, /hypernetworks, /sd-vae); [] when no
    kind of that name is registered."""
    found = app.registry.networks.get(kind)
    return [item.api for item in found.list(refresh)] if found is not None else []


def extra_networks(app: App) -> list[dict[str, Any]]:
    """Every registered network kind with its items (GET /sdapi/v1/extra-networks)."""
    return [{"name": e.name, "label": e.item.label, "source": e.source, "prompt_tags": list(e.item.prompt_tags),
             "items": [item.as_dict() for item in e.item.list()]} for e in app.registry.networks.entries()]


def samplers(app: App) -> list[dict[str, Any]]:
    """A1111's /samplers: every registered sampler."""
    return [{"name": s.name, "aliases": list(s.aliases), "options": {}} for s in app.registry.samplers]


def schedulers(app: App) -> list[dict[str, Any]]:
    """A1111's /schedulers: every registered schedule type."""
    return [{"name": s.name, "label": s.label, "aliases": list(s.aliases) or None, "default_rho": s.default_rho,
             "need_inner_model": s.need_inner_model} for s in app.registry.schedules]


def upscalers(app: App) -> list[dict[str, Any]]:
    """A1111's /upscalers: every registered upscaler."""
    return [spec.as_api() for spec in app.registry.upscalers]


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
