"""Real-ESRGAN's SRVGGNetCompact ("realesr-general-x4v3", "realesr-animevideov3"), read from its state dict.

Keys: body.0 (conv from the image), then alternating PReLU (body.1, a [features] weight) and conv
(body.2, body.4, ...); the last conv makes out_channels * scale**2 channels that a pixel shuffle turns into
the image scale times as large, added to the input enlarged by nearest neighbour. The scale follows from
the last conv's channels. Written from the published architecture description; no code copied.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

_BODY = re.compile(r"^body\.(\d+)\.(weight|bias)$")


@dataclass(frozen=True)
class SRVGGShape:
    in_channels: int
    out_channels: int
    features: int
    convs: int  # the middle convolutions (num_conv)
    scale: int


def is_srvgg(state: dict[str, torch.Tensor]) -> bool:
    keys = set(state)
    return ("body.0.weight" in keys and "conv_first.weight" not in keys
            and all(_BODY.match(k) for k in keys) and state["body.0.weight"].dim() == 4)


def read_shape(state: dict[str, torch.Tensor]) -> SRVGGShape:
    """The network's shape; ValueError when the numbering or the sizes do not fit SRVGGNetCompact."""
    indices = sorted({int(m.group(1)) for k in state if (m := _BODY.match(k))})
    last = indices[-1]
    if indices != list(range(last + 1)) or last % 2:
        raise ValueError(f"the body layers are numbered {indices[:8]}...")
    for i in indices:
        want = 4 if i % 2 == 0 else 1  # convs at even places, PReLU weights at odd ones
        if state[f"body.{i}.weight"].dim() != want:
            raise ValueError(f"body.{i} is not the layer SRVGGNetCompact has there")
    first, end = state["body.0.weight"], state[f"body.{last}.weight"]
    in_channels, features = int(first.shape[1]), int(first.shape[0])
    scale = math.isqrt(int(end.shape[0]) // in_channels)
    if scale < 1 or scale * scale * in_channels != int(end.shape[0]):
        raise ValueError("the last convolution's channels are not image channels times a square")
    return SRVGGShape(in_channels, in_channels, features, last // 2 - 1, scale)


def build_srvgg(shape: SRVGGShape) -> torch.nn.Module:
    from torch import nn
    from torch.nn import functional

    class SRVGGNetCompact(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            nf = shape.features
            layers: list[nn.Module] = [nn.Conv2d(shape.in_channels, nf, 3, 1, 1), nn.PReLU(nf)]
            for _ in range(shape.convs):
                layers += [nn.Conv2d(nf, nf, 3, 1, 1), nn.PReLU(nf)]
            layers.append(nn.Conv2d(nf, shape.out_channels * shape.scale ** 2, 3, 1, 1))
            self.body = nn.Sequential(*layers)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = functional.pixel_shuffle(self.body(x), shape.scale)
            return out + functional.interpolate(x, scale_factor=shape.scale, mode="nearest")

    return SRVGGNetCompact()


def load_srvgg(state: dict[str, torch.Tensor]) -> tuple[torch.nn.Module, SRVGGShape]:
    """The SRVGGNetCompact these weights describe, with them loaded; ValueError when they do not fit."""
    shape = read_shape(state)
    module = build_srvgg(shape)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise ValueError(" ".join(str(e).split())[:300]) from None
    return module.eval(), shape
