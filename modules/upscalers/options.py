"""The Settings of upscaling and of the tiled VAE (A1111's keys where it has them), registered at start."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modules.generation.tiled_vae import AUTO_SIZE
from modules.messages import msg
from modules.option_specs import OptionSpec
from modules.upscalers.model_files import TILE, TILE_OVERLAP

if TYPE_CHECKING:
    from modules.registry import Section


def _spec(key: str, default: Any, kind: type, section: str, **more: Any) -> OptionSpec:
    return OptionSpec(default, kind, label=msg(f"opt_{key}"), section=msg(f"section_{section}"),
                      help=msg(f"opt_{key}_help"), **more)


def upscaling_options() -> dict[str, OptionSpec]:
    return {
        "ESRGAN_tile": _spec("ESRGAN_tile", TILE, int, "upscaling", minimum=0, maximum=1024, step=16),
        "ESRGAN_tile_overlap": _spec("ESRGAN_tile_overlap", TILE_OVERLAP, int, "upscaling", minimum=0, maximum=64,
                                     step=1),
        "tiled_vae": _spec("tiled_vae", False, bool, "vae"),
        "tiled_vae_auto_size": _spec("tiled_vae_auto_size", AUTO_SIZE, int, "vae", minimum=0, maximum=16384, step=64),
    }


def register_upscaling_options(options: Section[Any]) -> None:
    for key, spec in upscaling_options().items():
        if key not in options:
            options.register(key, spec)
