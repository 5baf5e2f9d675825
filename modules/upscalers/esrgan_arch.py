"""ESRGAN's RRDBNet, read from its state dict in either of the two key layouts found in the wild.

New layout (BasicSR, Real-ESRGAN "RealESRGAN_x4plus", "x2plus", "anime_6B"): conv_first, body.N.rdbK.convJ,
conv_body, conv_up1, conv_up2 (conv_up3 for 8x), conv_hr, conv_last. Real-ESRGAN's 2x and 1x models first
pixel-unshuffle the input by 2 or 4, so conv_first takes 4x or 16x the channels of conv_last's output.

Old layout (the original ESRGAN repository, most community "4x_*.pth" files): model.0 (conv_first),
model.1.sub.N.RDBK.convJ.0 (the residual-in-residual blocks), model.1.sub.<nb> (conv_body), then one
conv per 2x step at model.3, model.6, ..., and the last two convs at the highest indices (conv_hr, conv_last).

Both are converted to one module's names (RRDBNet below). The scale is 2 ** (upsampling convs) divided by
the pixel-unshuffle factor. Written from the published architecture description; no code copied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

_OLD_BLOCK = re.compile(r"^model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0\.(weight|bias)$")
_OLD_TOP = re.compile(r"^model\.(\d+)\.(weight|bias)$")
_NEW_UP = re.compile(r"^conv_up(\d)\.(weight|bias)$")


@dataclass(frozen=True)
class RRDBShape:
    """What the weights say about the network."""

    in_channels: int  # image channels (before pixel-unshuffle)
    out_channels: int
    features: int  # nf
    growth: int  # gc
    blocks: int  # nb
    ups: int  # 2x upsampling steps
    unshuffle: int  # 1, 2 or 4

    @property
    def scale(self) -> float:
        return 2 ** self.ups / self.unshuffle


def is_old_layout(keys: set[str]) -> bool:
    return "model.0.weight" in keys and any(k.startswith("model.1.sub.0.RDB1.") for k in keys)


def is_new_layout(keys: set[str]) -> bool:
    return "conv_first.weight" in keys and any(k.startswith("body.0.rdb1.") for k in keys)


def old_to_new(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """An old-layout state dict under the module's names; ValueError when its numbering makes no sense."""
    top = sorted({int(m.group(1)) for k in state if (m := _OLD_TOP.match(k))})
    if not top or top[0] != 0 or len(top) < 3:
        raise ValueError("the 'model.N' convolutions are missing")
    blocks = {int(m.group(1)) for k in state if (m := _OLD_BLOCK.match(k))}
    body = max(blocks) + 1 if blocks else 0
    last, hr = top[-1], top[-1] - 2
    ups = [i for i in top if 3 <= i < hr]
    if hr not in top or any(i != 3 + 3 * n for n, i in enumerate(ups)):
        raise ValueError(f"unexpected convolution indices {top}")
    out: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        if m := _OLD_BLOCK.match(key):
            out[f"body.{m.group(1)}.rdb{m.group(2)}.conv{m.group(3)}.{m.group(4)}"] = tensor
        elif key.startswith(f"model.1.sub.{body}."):
            out["conv_body." + key.rsplit(".", 1)[1]] = tensor
        elif m := _OLD_TOP.match(key):
            index, kind = int(m.group(1)), m.group(2)
            name = ("conv_first" if index == 0 else "conv_hr" if index == hr else "conv_last" if index == last
                    else f"ups.{ups.index(index)}" if index in ups else None)
            if name is None:
                raise ValueError(f"unexpected weight {key}")
            out[f"{name}.{kind}"] = tensor
        else:
            raise ValueError(f"unexpected weight {key}")
    return out


def new_to_module(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A new-layout state dict under the module's names (conv_upN -> ups.N-1)."""
    out = {}
    for key, tensor in state.items():
        m = _NEW_UP.match(key)
        out[f"ups.{int(m.group(1)) - 1}.{m.group(2)}" if m else key] = tensor
    return out


def read_shape(state: dict[str, torch.Tensor]) -> RRDBShape:
    """The network's shape from module-named weights; ValueError when they do not fit together."""
    first, last = state["conv_first.weight"], state["conv_last.weight"]
    blocks = len({k.split(".")[1] for k in state if k.startswith("body.")})
    ups = len({k.split(".")[1] for k in state if k.startswith("ups.")})
    out_channels = int(last.shape[0])
    in_total = int(first.shape[1])
    unshuffle = {out_channels: 1, out_channels * 4: 2, out_channels * 16: 4}.get(in_total)
    if unshuffle is None or blocks == 0 or "body.0.rdb1.conv1.weight" not in state:
        raise ValueError("the convolutions do not fit an RRDB network")
    return RRDBShape(in_channels=in_total // unshuffle ** 2, out_channels=out_channels,
                     features=int(first.shape[0]), growth=int(state["body.0.rdb1.conv1.weight"].shape[0]),
                     blocks=blocks, ups=ups, unshuffle=unshuffle)


def build_rrdbnet(shape: RRDBShape) -> torch.nn.Module:
    """An RRDBNet of that shape (random weights; load_state_dict fills them)."""
    import torch
    from torch import nn
    from torch.nn import functional

    def conv(cin: int, cout: int) -> nn.Conv2d:
        return nn.Conv2d(cin, cout, 3, 1, 1)

    class DenseBlock(nn.Module):
        """Five convolutions, each seeing the block input and every earlier output; scaled residual."""

        def __init__(self, nf: int, gc: int) -> None:
            super().__init__()
            for j in range(1, 6):
                setattr(self, f"conv{j}", conv(nf + (j - 1) * gc, gc if j < 5 else nf))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            feats = [x]
            for j in range(1, 5):
                feats.append(functional.leaky_relu(getattr(self, f"conv{j}")(torch.cat(feats, 1)), 0.2))
            return self.conv5(torch.cat(feats, 1)) * 0.2 + x

    class RRDB(nn.Module):
        def __init__(self, nf: int, gc: int) -> None:
            super().__init__()
            self.rdb1, self.rdb2, self.rdb3 = DenseBlock(nf, gc), DenseBlock(nf, gc), DenseBlock(nf, gc)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x

    class RRDBNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            nf = shape.features
            self.conv_first = conv(shape.in_channels * shape.unshuffle ** 2, nf)
            self.body = nn.Sequential(*[RRDB(nf, shape.growth) for _ in range(shape.blocks)])
            self.conv_body = conv(nf, nf)
            self.ups = nn.ModuleList([conv(nf, nf) for _ in range(shape.ups)])
            self.conv_hr = conv(nf, nf)
            self.conv_last = conv(nf, shape.out_channels)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if shape.unshuffle > 1:
                x = functional.pixel_unshuffle(x, shape.unshuffle)
            feat = self.conv_first(x)
            feat = feat + self.conv_body(self.body(feat))
            for up in self.ups:
                feat = functional.leaky_relu(up(functional.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
            return self.conv_last(functional.leaky_relu(self.conv_hr(feat), 0.2))

    return RRDBNet()


def load_rrdbnet(state: dict[str, torch.Tensor]) -> tuple[torch.nn.Module, RRDBShape]:
    """The RRDBNet these weights (either layout) describe, with them loaded; ValueError when they do not fit."""
    keys = set(state)
    named = old_to_new(state) if is_old_layout(keys) else new_to_module(state)
    shape = read_shape(named)
    if shape.in_channels * shape.unshuffle ** 2 != int(named["conv_first.weight"].shape[1]):
        raise ValueError("the input convolution does not fit")
    module = build_rrdbnet(shape)
    try:
        module.load_state_dict(named, strict=True)
    except RuntimeError as e:
        raise ValueError(" ".join(str(e).split())[:300]) from None
    return module.eval(), shape
