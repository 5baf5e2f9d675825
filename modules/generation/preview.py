"""Live previews: a picture of the running job's latents, drawn while the UI or API asks for them.

The denoising loop publishes a reference to its newest latents (Progress.publish_latents). While a
client has asked for a preview in the last few seconds (live_preview), the job itself draws one after
each step that is due (draw_due_preview), on its own thread, as A1111 does; a job nobody watches pays
nothing.

- "Approx cheap": latent -> RGB through a per-model linear map (4 weights + bias per colour). The map is
  fitted once per VAE by encoding a few flat colour patches and solving least squares, so it works for
  any checkpoint (SD1, SD2, SDXL, the demo model) without shipping coefficient tables.
- "Full": the model's own VAE decodes the latents (slower, exact).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from modules.jobs import Progress
    from modules.model_manager.loaded_model import LoadedModel
    from modules.options import Options

log = logging.getLogger(__name__)

# colours (RGB in 0..1) the linear map is fitted on: the cube's corners, greys, and mixed tones
FIT_COLOURS = [
    (0, 0, 0), (1, 1, 1), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (1, 0, 1), (0, 1, 1),
    (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), (0.75, 0.75, 0.75), (1, 0.5, 0), (0.5, 0, 1), (0, 0.5, 0.25),
    (0.6, 0.4, 0.2), (0.2, 0.6, 0.8),
]
FIT_SIZE = 64  # pixels per side of each colour patch
_FACTORS_KEY = "preview_factors"
_fit_lock = threading.Lock()


def approx_factors(model: LoadedModel) -> tuple[torch.Tensor, torch.Tensor]:
    """(weights [C, 3], bias [3]) mapping this model's scaled latents to RGB in -1..1; cached per VAE."""
    import torch

    vae = model.vae
    with _fit_lock:
        cached = model.extra.get(_FACTORS_KEY)
        if cached is not None and cached[0] is vae:
            return cached[1], cached[2]
        colours = torch.tensor(FIT_COLOURS, dtype=torch.float32)
        pixels = (colours * 2 - 1)[:, :, None, None].expand(-1, -1, FIT_SIZE, FIT_SIZE)
        with torch.no_grad():
            latents = vae.encode(pixels.to(device=vae.device, dtype=vae.dtype)).latent_dist.mean.float()
        shift = float(getattr(vae.config, "shift_factor", None) or 0.0)
        scaled = (latents - shift) * float(vae.config.scaling_factor)  # what the denoising loop works on
        mean = scaled.mean(dim=(2, 3)).cpu().double()  # [N, C]: a patch's latents, averaged
        design = torch.cat([mean, torch.ones(len(mean), 1, dtype=torch.float64)], dim=1)
        solution = torch.linalg.lstsq(design, (colours * 2 - 1).double()).solution  # [C + 1, 3]
        weights, bias = solution[:-1].float(), solution[-1].float()
        model.extra[_FACTORS_KEY] = (vae, weights, bias)
        return weights, bias


def approx_images(model: LoadedModel, latents: torch.Tensor) -> list[Image.Image]:
    """Latent-sized RGB images through the fitted linear map (no VAE decode)."""
    import torch

    weights, bias = approx_factors(model)
    with torch.no_grad():
        rgb = torch.einsum("nchw,ck->nkhw", latents.detach().float().cpu(), weights) + bias[None, :, None, None]
    return _to_images(rgb)


def full_images(model: LoadedModel, latents: torch.Tensor) -> list[Image.Image]:
    """Full-size images through the model's VAE, in its own dtype (no fp32 retry: that would change the
    VAE's dtype under the running job; a preview may simply fail)."""
    from modules.generation.latents import vae_decode

    return _to_images(vae_decode(model.vae, latents.detach()).float().cpu())


def _to_images(rgb: torch.Tensor) -> list[Image.Image]:
    import numpy as np
    import torch
    from PIL import Image

    arrays = ((rgb.clamp(-1, 1) + 1) * 127.5).round().to(dtype=torch.uint8)
    return [Image.fromarray(np.ascontiguousarray(a.permute(1, 2, 0).numpy())) for a in arrays]


def draw(model: LoadedModel, latents: torch.Tensor, kind: str, grid: bool) -> Image.Image:
    """One preview image of a batch of latents: the first image, or all of them as a grid."""
    from modules.generation.grid import make_grid

    batch = latents if grid else latents[:1]
    images = full_images(model, batch) if kind == "Full" else approx_images(model, batch)
    return make_grid(images) if len(images) > 1 else images[0]


def live_preview(progress: Progress, options: Options) -> Image.Image | None:
    """For the UI and API: the running job's newest preview (None when previews are off or none is
    drawn yet). Asking also tells the job that someone watches, so it draws previews from its next
    step on, on its own thread: torch work in a second thread would slow the job (docs/cpu-threads.md)."""
    if not options.get("live_previews_enable", True) or int(options.get("show_progress_every_n_steps", 10)) == 0:
        return None
    progress.ask_for_preview()
    return progress.preview  # type: ignore[return-value]


def draw_due_preview(progress: Progress, options: Options) -> None:
    """On the job's thread, after a step: draw a preview by the live-preview options if sampling has
    moved on far enough since the last one. A failure is logged and leaves the old preview: a preview
    never breaks a job."""
    if not options.get("live_previews_enable", True):
        return
    every = int(options.get("show_progress_every_n_steps", 10))
    source = progress.preview_source()
    if every == 0 or source is None:
        return
    latents, model, step = source
    steps = max(1, progress.total_steps)
    if every < 0:  # only when a batch has finished sampling
        due = step % steps == 0 and step != progress.preview_step
    else:
        due = progress.preview is None or step - progress.preview_step >= every
    if not due or step <= 0:
        return
    try:
        image = draw(model, latents, str(options.get("show_progress_type", "Approx cheap")),
                     bool(options.get("show_progress_grid", True)))
    except Exception:  # noqa: BLE001 - previews are best effort
        log.warning("could not draw a live preview", exc_info=True)
        return
    progress.store_preview(image, step)
