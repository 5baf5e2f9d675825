"""Running an image model on overlapping tiles and blending them back: large images at small memory.

tiled_apply(fn, x, scale, tile, overlap) splits x [N, C, H, W] into tiles of at most tile x tile (the
last row and column of tiles end at the border, so every tile has the full size when the input is large
enough), runs fn on each and adds the outputs into one buffer with weights that fall linearly to the edge
of each tile where it overlaps a neighbour, then divides by the summed weights: seams fade over the
overlap instead of showing. Used by the upscaler models (modules/upscalers/model_files.py) and by the
tiled VAE (modules/generation/tiled_vae.py). Only one tile's activations and the output live at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def tile_starts(size: int, tile: int, overlap: int, align: int = 1) -> list[int]:
    """Where the tiles along one side begin: every (tile - overlap) rounded down to align, the last one
    ending at size. One tile when size <= tile."""
    if size <= tile:
        return [0]
    step = max(align, (tile - overlap) // align * align)
    starts = list(range(0, size - tile, step))
    last = (size - tile) // align * align
    if not starts or starts[-1] != last:
        starts.append(last)
    return starts


def _ramp(length: int, before: int, after: int, device: torch.device) -> torch.Tensor:
    """Weights along one side of a tile: rising over `before` values, falling over `after`, 1 between."""
    import torch

    weights = torch.ones(length, device=device)
    if before > 0:
        weights[:before] = torch.arange(1, before + 1, device=device) / (before + 1)
    if after > 0:
        weights[length - after:] = torch.minimum(weights[length - after:],
                                                 torch.arange(after, 0, -1, device=device) / (after + 1))
    return weights


def tiled_apply(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, scale: float, tile: int | tuple[int, int],
                overlap: int, align: int = 1, on_tile: Callable[[int, int], None] | None = None) -> torch.Tensor:
    """fn applied tile by tile to x [N, C, H, W]; fn must map an h x w tile to (h*scale) x (w*scale). tile: a
    side, or (height, width). The result is float32 on fn's device. on_tile(done, total) is called after each
    tile (it may raise to stop)."""
    import torch

    _n, _c, height, width = x.shape
    tile_h, tile_w = (tile, tile) if isinstance(tile, int) else tile
    ys, xs = tile_starts(height, tile_h, overlap, align), tile_starts(width, tile_w, overlap, align)
    edge = max(0, round(overlap * scale))
    out: torch.Tensor | None = None
    total: torch.Tensor | None = None
    count = len(ys) * len(xs)
    for row, y in enumerate(ys):
        for col, x0 in enumerate(xs):
            part = fn(x[:, :, y:y + tile_h, x0:x0 + tile_w]).float()
            if out is None:
                out = torch.zeros(part.shape[0], part.shape[1], round(height * scale), round(width * scale),
                                  device=part.device)
                total = torch.zeros(1, 1, out.shape[2], out.shape[3], device=part.device)
            oy, ox = round(y * scale), round(x0 * scale)
            ph, pw = min(part.shape[2], out.shape[2] - oy), min(part.shape[3], out.shape[3] - ox)
            wy = _ramp(ph, edge if row > 0 else 0, edge if row < len(ys) - 1 else 0, part.device)
            wx = _ramp(pw, edge if col > 0 else 0, edge if col < len(xs) - 1 else 0, part.device)
            weight = (wy[:, None] * wx[None, :])[None, None]
            out[:, :, oy:oy + ph, ox:ox + pw] += part[:, :, :ph, :pw] * weight
            total[:, :, oy:oy + ph, ox:ox + pw] += weight
            del part
            if on_tile is not None:
                on_tile(row * len(xs) + col + 1, count)
    assert out is not None and total is not None
    return out.div_(total.clamp_min_(1e-8))
