"""Variation seeds (A1111's "Extra" seed options): the start noise of a seed moved toward another seed's.

    noise = variation_noise(model, params, seeds, first_index, width, height, generators)

Image i of a generation has variation seed subseed + i, and seed + i without a variation strength, the
seed itself with one (A1111: a batch is variations of one picture). With strength s its noise is the
spherical interpolation (slerp) of the two seeds' noises at s: 0 is the seed's own noise, 1 the variation
seed's. "Resize seed from" W x H draws those noises at W x H and puts them in the centre of the image's
own noise (cut at the edges when W x H is larger), so a seed keeps its composition at another size.
Everything is drawn on the CPU in float32 (latents.initial_noise), as the plain start noise is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import torch

    from modules.generation.params import GenerationParams
    from modules.model_manager.loaded_model import LoadedModel

P = TypeVar("P", bound="GenerationParams")
PARALLEL = 0.9995  # above this cosine the two noises are treated as parallel: plain linear interpolation


def with_resolved_subseed(params: P) -> P:
    """params with a random variation seed (-1) drawn once for the whole generation."""
    from modules.generation.pipeline import resolve_seed

    return params if params.subseed != -1 else replace(params, subseed=resolve_seed(-1))


def uses_variation(params: GenerationParams) -> bool:
    return params.subseed_strength > 0 or resize_from(params) is not None


def resize_from(params: GenerationParams) -> tuple[int, int] | None:
    """(width, height) the noise is drawn at, None when "resize seed from" is off (either side 0)."""
    if params.seed_resize_from_w <= 0 or params.seed_resize_from_h <= 0:
        return None
    return params.seed_resize_from_w, params.seed_resize_from_h


def slerp(strength: float, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation per batch item from low (strength 0) to high (strength 1)."""
    import torch

    a, b = low.flatten(1).double(), high.flatten(1).double()
    cos = (a / a.norm(dim=1, keepdim=True) * (b / b.norm(dim=1, keepdim=True))).sum(dim=1).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    parallel = cos.abs() > PARALLEL
    safe = torch.where(parallel, torch.ones_like(sin), sin)
    w_low = torch.where(parallel, 1.0 - strength, torch.sin((1.0 - strength) * omega) / safe)
    w_high = torch.where(parallel, torch.full_like(sin, strength), torch.sin(strength * omega) / safe)
    mixed = w_low[:, None] * a + w_high[:, None] * b
    return mixed.view_as(low).to(low.dtype)


def _centred(inner: torch.Tensor, outer: torch.Tensor) -> torch.Tensor:
    """outer with inner's centre written over its centre (inner cut where it is the larger one)."""
    out = outer.clone()
    (ih, iw), (oh, ow) = inner.shape[-2:], outer.shape[-2:]
    h, w = min(ih, oh), min(iw, ow)
    oy, ox, iy, ix = (oh - h) // 2, (ow - w) // 2, (ih - h) // 2, (iw - w) // 2
    out[..., oy:oy + h, ox:ox + w] = inner[..., iy:iy + h, ix:ix + w]
    return out


def variation_noise(model: LoadedModel, params: GenerationParams, seeds: list[int], first_index: int, width: int,
                    height: int, generators: list[torch.Generator]) -> torch.Tensor:
    """The start noise of a batch whose first image is first_index of the generation, at width x height.

    Without variation (strength 0, no resize) it is exactly latents.initial_noise, drawn from generators
    (which the sampler goes on using). params.subseed must be resolved (with_resolved_subseed)."""
    from modules.generation.latents import cpu_generators, initial_noise

    noise = initial_noise(model, seeds, width, height, generators)
    if not uses_variation(params):
        return noise
    source = resize_from(params) or (width, height)
    own = noise if source == (width, height) else initial_noise(model, seeds, *source, cpu_generators(seeds))
    if params.subseed_strength > 0:
        subseeds = [params.subseed + first_index + j for j in range(len(seeds))]
        other = initial_noise(model, subseeds, *source, cpu_generators(subseeds))
        own = slerp(params.subseed_strength, own.float(), other.float()).to(noise.dtype)
    return own if source == (width, height) else _centred(own, noise)
