"""How well a VAE keeps what the demo benchmark measures: the analyzer run on its reconstructions."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from diffusers import AutoencoderKL


def vae_check(vae: AutoencoderKL, resolution: int, count: int = 200) -> dict[str, float]:
    """How often the analyzer reads the right attributes from VAE reconstructions of single-shape images
    (an upper bound for what the finished model can score); "kind small" / "kind large": kind among the
    small / large shapes."""
    import numpy as np
    import torch
    from PIL import Image

    from modules.demo.analyzer import analyze
    from modules.demo.shapes import benchmark_scenes, render
    from modules.training.dataset import to_unit_range

    device = next(vae.parameters()).device
    right: dict[str, int] = {}
    seen: dict[str, int] = {}
    scenes = benchmark_scenes(count, seed=777)
    for start in range(0, count, 50):
        batch = scenes[start : start + 50]
        pixels = torch.stack([torch.from_numpy(np.asarray(render(s, resolution)).copy()) for s in batch])
        with torch.no_grad():
            x = to_unit_range(pixels.permute(0, 3, 1, 2).to(device))
            out = vae.decode(vae.encode(x).latent_dist.mean).sample
        arrays = ((out.float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()
        for scene, array in zip(batch, arrays, strict=True):
            matches = analyze(Image.fromarray(array)).matches(scene)
            if scene.main.size:
                matches[f"kind {scene.main.size}"] = matches["kind"]
            for name, ok in matches.items():
                right[name] = right.get(name, 0) + bool(ok)
                seen[name] = seen.get(name, 0) + 1
    return {name: n / seen[name] for name, n in right.items()}
