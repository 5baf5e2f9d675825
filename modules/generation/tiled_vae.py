"""Tiled VAE: decoding and encoding a large image tile by tile, so its memory stays that of one tile.

The plain VAE decoder holds activations of 128-512 channels at the full image size (and its middle block
attends over every latent pixel at once), so a 2048x2048 decode needs several GiB; tile by tile it needs
one tile's worth plus the output. Tiles overlap and are blended with linear ramps
(modules/upscalers/tiled.py). Each tile's group norms and attention see only that tile, so the result
differs slightly from the plain decode. Encoding goes one step further: the whole image is first run
through the encoder once at the size of one tile (scaled down) and every group norm's statistics are
recorded; each tile is then normalised with those (SharedGroupNorm, through PyTorch forward hooks), which
halves the difference to the plain encoding on the demo model's VAE (mean |difference| 0.27 against 0.55
with each tile's own statistics, latents of mean size 6.2). For decoding the same estimate measured
slightly worse than each tile's own statistics (mean 4.3 against 3.8 of 255 levels on the demo VAE), so
decoding keeps them. tests/backend/test_tiled_vae.py measures the differences and the peak memory.

VaeTiling says when to tile: always when the "tiled_vae" option is on, otherwise automatically once the
image's larger side exceeds "tiled_vae_auto_size" pixels (0: never automatically).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from modules.options import Options

AUTO_SIZE = 1536  # image side (pixels) above which the VAE tiles even with the option off
DECODE_TILE = 64  # latent pixels a side (512 image pixels for SD)
DECODE_OVERLAP = 16
ENCODE_TILE = 512  # image pixels a side
ENCODE_OVERLAP = 64


@dataclass(frozen=True)
class VaeTiling:
    """When and how the VAE works in tiles. Sizes are latent pixels for decoding, image pixels for encoding."""

    always: bool = False
    auto_size: int = AUTO_SIZE
    decode_tile: int = DECODE_TILE
    decode_overlap: int = DECODE_OVERLAP
    encode_tile: int = ENCODE_TILE
    encode_overlap: int = ENCODE_OVERLAP

    @classmethod
    def from_options(cls, options: Options) -> VaeTiling:
        """The Settings' choice (options "tiled_vae" and "tiled_vae_auto_size")."""
        return cls(always=bool(options.get("tiled_vae", False)),
                   auto_size=int(options.get("tiled_vae_auto_size", AUTO_SIZE) or 0))

    def wanted(self, width: int, height: int) -> bool:
        """Whether an image of width x height pixels goes through the VAE in tiles."""
        return self.always or (self.auto_size > 0 and max(width, height) > self.auto_size)


class SharedGroupNorm:
    """Forward hooks on every GroupNorm of a module. While recording, each call's per-group mean and variance
    are kept (in call order); while applying, each call normalises its input with the recorded ones instead
    of its own, so every tile is normalised alike. remove() takes the hooks off."""

    def __init__(self, module: Any) -> None:
        import torch

        self.recording = True
        self.recorded: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.calls = 0
        norms = [m for m in module.modules() if isinstance(m, torch.nn.GroupNorm)]
        self._handles = [norm.register_forward_hook(self._hook) for norm in norms]

    def _hook(self, norm: Any, inputs: tuple[Any, ...], output: torch.Tensor) -> torch.Tensor:
        import torch

        x = inputs[0]
        grouped = x.reshape(x.shape[0], norm.num_groups, -1).float()
        if self.recording:
            self.recorded.append((grouped.mean(-1, keepdim=True), grouped.var(-1, unbiased=False, keepdim=True)))
            return output
        mean, var = self.recorded[self.calls % len(self.recorded)]
        self.calls += 1
        normed = ((grouped - mean) * torch.rsqrt(var + norm.eps)).reshape(x.shape)
        if norm.affine:
            shape = (1, -1) + (1,) * (x.dim() - 2)
            normed = normed * norm.weight.float().view(shape) + norm.bias.float().view(shape)
        return normed.to(output.dtype)

    def apply(self) -> None:
        self.recording = False
        self.calls = 0

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


def _shrunk(x: torch.Tensor, side: int, multiple: int = 1) -> torch.Tensor:
    """x scaled down (nearest pixels: the values keep their spread) so that its larger side is at most side,
    sides a multiple of multiple."""
    from torch.nn import functional

    height, width = x.shape[-2:]
    ratio = min(1.0, side / max(height, width))
    size = (max(multiple, round(height * ratio / multiple) * multiple),
            max(multiple, round(width * ratio / multiple) * multiple))
    return x if size == (height, width) else functional.interpolate(x.float(), size=size, mode="nearest-exact").to(x.dtype)


def _tiled_with_shared_norms(module: Any, run: Any, preview: torch.Tensor, tile_all: Any) -> torch.Tensor:
    """run(preview) once recording the group norms' statistics, then tile_all() with them applied."""
    shared = SharedGroupNorm(module)
    try:
        run(preview)
        shared.apply()
        return tile_all()
    finally:
        shared.remove()


def tiled_decode(vae: Any, scaled: torch.Tensor, tiling: VaeTiling) -> torch.Tensor:
    """vae.decode(scaled).sample, tile by tile (scaled: latents already divided by the scaling factor)."""
    from modules.upscalers.tiled import tiled_apply

    factor = 2 ** (len(vae.config.block_out_channels) - 1)
    pixels = tiled_apply(lambda tile: vae.decode(tile).sample, scaled, factor, tiling.decode_tile,
                         tiling.decode_overlap)
    return pixels.to(vae.dtype)


def tiled_encode_mean(vae: Any, pixels: torch.Tensor, tiling: VaeTiling) -> torch.Tensor:
    """vae.encode(pixels).latent_dist.mean, tile by tile (pixels: -1..1, sides a multiple of the VAE's factor)."""
    from modules.upscalers.tiled import tiled_apply

    factor = 2 ** (len(vae.config.block_out_channels) - 1)
    tile = max(factor, tiling.encode_tile // factor * factor)
    overlap = tiling.encode_overlap // factor * factor
    mean = _tiled_with_shared_norms(
        vae.encoder, lambda small: vae.encode(small), _shrunk(pixels, tile, factor),
        lambda: tiled_apply(lambda part: vae.encode(part).latent_dist.mean, pixels, 1 / factor, tile, overlap,
                            align=factor))
    return mean.to(vae.dtype)
