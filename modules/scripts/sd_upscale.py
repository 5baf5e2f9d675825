"""The "SD upscale" img2img script (A1111's): enlarge the init image with an upscaler, then redraw it with
img2img tile by tile (tiles of the tab's width x height, overlapping by "Tile overlap" pixels) and blend the
tiles back with linear ramps over the overlaps (modules/upscalers/tiled.py), so no seam shows.

Arguments, in order: Tile overlap (pixels), Upscaler (a name from GET /sdapi/v1/upscalers; A1111 takes an
index into its own list here), Scale Factor. Every tile is drawn with the same seed (as A1111 does); the
result is one image of the scaled size, saved with the first tile's infotext plus "SD upscale overlap" and
"SD upscale upscaler".
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams
from modules.messages import msg
from modules.scripts.base import Script, ScriptArg, generate_now

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from modules.app import App
    from modules.generation.pipeline import GenerationResult
    from modules.generation.request import GenerationRequest, Outcome
    from modules.jobs import Progress
    from modules.registry import Registry

TITLE = "SD upscale"
ALIGN = 8  # tile sizes and positions in whole latent pixels


class _Stopped(Exception):
    """Interrupt was pressed between tiles."""


def with_extra_infotext(text: str, extra: dict[str, object]) -> str:
    """text with 'key: value' items added to its parameters line, before Version/User when present."""
    from modules.generation.infotext import quote

    items = ", ".join(f"{k}: {quote(str(v))}" for k, v in extra.items())
    head, _, last = text.rpartition("\n")
    for trailing in (", Version: ", ", User: "):
        if trailing in last:
            before, _, after = last.partition(trailing)
            return f"{head}\n{before}, {items}{trailing}{after}" if head else f"{before}, {items}{trailing}{after}"
    return f"{text}, {items}"


class SdUpscale(Script):
    title = TITLE
    tabs = ("img2img",)

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    @property
    def args(self) -> tuple[ScriptArg, ...]:  # type: ignore[override]
        names = tuple(self._registry.upscalers.names()) or ("None",)
        return (
            ScriptArg("Tile overlap", "int", 64, minimum=0, maximum=256, step=16),
            ScriptArg("Upscaler", "choice", "None", choices=names),
            ScriptArg("Scale Factor", "float", 2.0, minimum=1.0, maximum=4.0, step=0.05),
        )

    def check(self, app: App, request: GenerationRequest, args: list[Any]) -> None:
        if request.kind != "img2img" or not getattr(request.params, "init_images", ()):
            raise InvalidParams(msg("sd_upscale_needs_img2img"))
        if not 1.0 <= float(args[2]) <= 4.0:
            raise InvalidParams(msg("sd_upscale_bad_scale", value=args[2]))

    def run(self, app: App, request: GenerationRequest, args: list[Any], progress: Progress) -> GenerationResult:
        import numpy as np

        from modules.extras.run import enlarge
        from modules.generation.img2img_prep import flatten
        from modules.generation.pipeline import GenerationResult
        from modules.upscalers.spec import target_size
        from modules.upscalers.tiled import tiled_apply

        overlap, upscaler, scale = int(args[0]), str(args[1]), float(args[2])
        params = request.params
        source = flatten(params.init_images[0])
        size = target_size(source.width, source.height, scale)
        grid = (max(ALIGN, size[0] // ALIGN * ALIGN), max(ALIGN, size[1] // ALIGN * ALIGN))
        big = enlarge(app.registry, upscaler, source, scale, grid)
        tile_w, tile_h = min(params.width, grid[0]), min(params.height, grid[1])
        seed = params.seed if params.seed != -1 else random.randint(0, 2**32 - 1)
        sub = replace(request, save_images=False, save_grid=False)
        outcomes: list[Outcome] = []

        def redraw(tile: torch.Tensor) -> torch.Tensor:
            image = _to_image(tile)
            tile_params = replace(params, init_images=(image,), mask=None, width=image.width, height=image.height,
                                  batch_size=1, batch_count=1, seed=seed, resize_mode=0)
            outcome = generate_now(app, replace(sub, params=tile_params, size_from_model=False), progress)
            if outcome.result.interrupted or not outcome.result.images:
                raise _Stopped
            outcomes.append(outcome)
            return _to_tensor(outcome.result.images[0])

        def between(_done: int, _total: int) -> None:
            if progress.interrupted:
                raise _Stopped

        try:
            pixels = tiled_apply(redraw, _to_tensor(big), 1, (tile_h, tile_w), min(overlap, tile_w // 2, tile_h // 2),
                                 align=ALIGN, on_tile=between)
        except _Stopped:
            return GenerationResult(interrupted=True, message=msg("script_interrupted", done=0))
        array = (pixels[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        final = _from_array(array)
        if final.size != size:
            final = final.resize(size)
        first = outcomes[0]
        text = with_extra_infotext(first.result.infotexts[0], {"SD upscale overlap": overlap,
                                                               "SD upscale upscaler": upscaler})
        result = GenerationResult(images=[final], seeds=[seed], infotexts=[text], scheduler=first.result.scheduler)
        if request.save_images:
            result.paths.append(_save(app, first, final, text, seed))
            result.message = msg("saved", count=1, folder=result.paths[0].parent)
        else:
            result.message = msg("generated_not_saved", count=1)
        result.message += " " + msg("sd_upscale_tiles", tiles=len(outcomes), width=tile_w, height=tile_h,
                                    size=f"{size[0]}x{size[1]}")
        return result


def _to_tensor(image: Image.Image) -> torch.Tensor:
    import numpy as np
    import torch

    return torch.from_numpy(np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0).permute(2, 0, 1)[None]


def _to_image(tile: torch.Tensor) -> Image.Image:
    import numpy as np

    return _from_array((tile[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))


def _from_array(array: Any) -> Image.Image:
    from PIL import Image

    return Image.fromarray(array, "RGB")


def _save(app: App, first: Outcome, image: Image.Image, text: str, seed: int) -> Any:
    from modules.generation.save_options import SaveOptions, name_fields

    saving = SaveOptions.for_run(app, "img2img", first.options)
    model = first.model
    fields = name_fields(first.params, seed, model.stem if model else "", model.shorthash if model else "", 0,
                         datetime.now())
    return saving.save_sample(image, fields, text)
