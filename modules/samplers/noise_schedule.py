"""The training noise schedule as the samplers need it, including zero-terminal-SNR models.

A model trained with a zero-terminal-SNR schedule (Lin et al. 2023, "Common Diffusion Noise Schedules
and Sample Steps are Flawed") saw pure noise at its last timestep. Sampling it on the ordinary SD
schedule starts from a noise level it was never trained at; sampling it on the rescaled schedule needs
an infinite first sigma. Like A1111 and ComfyUI, the last cumulative alpha is set to a tiny positive
value instead of 0 (a first sigma of about 4519), and every sampler gets the schedule as `trained_betas`,
which all diffusers schedulers take. Pure functions on numpy arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from modules.samplers.specs import SamplerTable

# the cumulative alpha A1111 and ComfyUI put in place of the rescaled schedule's final 0
TERMINAL_ALPHA_BAR = 4.8973451890853435e-08
ZERO_TERMINAL_SNR = "Zero Terminal SNR"
# choices of the "sd_noise_schedule" option (A1111's "Noise schedule for sampling")
NOISE_SCHEDULES = ("Default", ZERO_TERMINAL_SNR)


def alphas_cumprod(training: dict[str, Any]) -> np.ndarray:
    """Cumulative alphas of a "scaled_linear" or "linear" schedule given as diffusers kwargs."""
    steps = int(training.get("num_train_timesteps", 1000))
    start, end = float(training.get("beta_start", 0.00085)), float(training.get("beta_end", 0.012))
    kind = training.get("beta_schedule", "scaled_linear")
    if kind == "scaled_linear":
        betas = np.linspace(start**0.5, end**0.5, steps, dtype=np.float64) ** 2
    elif kind == "linear":
        betas = np.linspace(start, end, steps, dtype=np.float64)
    else:
        raise ValueError(f"unsupported beta schedule {kind!r}")
    return np.cumprod(1.0 - betas)


def rescale_zero_terminal_snr(alphas_bar: np.ndarray, terminal: float = TERMINAL_ALPHA_BAR) -> np.ndarray:
    """The schedule shifted and scaled in sqrt(alpha_bar) so the last step has zero signal and the
    first keeps its value; the final 0 is then replaced by `terminal` (0 for training)."""
    root = np.sqrt(alphas_bar.astype(np.float64))
    first, last = root[0], root[-1]
    root = (root - last) * first / (first - last)
    rescaled = root**2
    rescaled[-1] = terminal
    return rescaled


def betas_from_alphas_cumprod(alphas_bar: np.ndarray) -> np.ndarray:
    previous = np.concatenate([[1.0], alphas_bar[:-1]])
    return 1.0 - alphas_bar / previous


def with_noise_schedule(training: dict[str, Any], choice: str) -> dict[str, Any]:
    """The model's schedule kwargs under the sd_noise_schedule option: "Default" keeps what the
    checkpoint says, "Zero Terminal SNR" rescales every model's schedule."""
    if choice == ZERO_TERMINAL_SNR:
        return {**training, "rescale_betas_zero_snr": True}
    return training


def noise_schedule_label(training: dict[str, Any]) -> str | None:
    """The infotext's "Noise Schedule" value (A1111's key) for sampling on these kwargs; None: the default."""
    return ZERO_TERMINAL_SNR if training.get("rescale_betas_zero_snr") else None


# samplers that combine slopes (x - x0) / sigma from several sigmas in one step (Heun's two evaluations,
# LMS's history): on evenly spaced timesteps the first step of a zero-terminal-SNR schedule drops from
# sigma 4519 to about 30, and Heun's average then multiplies the difference of the two x0 predictions by
# about 75. Exponential spacing keeps every step's ratio near 1.9 (demo model, 60 prompts x 2 seeds,
# Uniform -> Exponential: background right 71.7% -> 100% with Heun, 87.5% -> 100% with LMS; shape colour
# 77.5% -> 96.7%, 65.0% -> 96.7%).
EVEN_RATIO_SAMPLERS = ("Heun", "LMS")


def automatic_schedule(sampler_name: str, scheduler: str, training: dict[str, Any],
                       table: SamplerTable | None = None) -> str:
    """The schedule type to use. On a zero-terminal-SNR schedule "Automatic" becomes:
    - "SGM Uniform" where the sampler's default would be Karras or Exponential. Those crowd the steps
      towards the first sigma, and from 4519 that leaves 13 of 20 steps above sigma 14, where such a
      model sees nothing but noise (the demo model's background colour: 83% right with Karras, 98% with
      SGM Uniform);
    - "Exponential" for EVEN_RATIO_SAMPLERS (see there).
    Any other choice is kept. table: the samplers to look in (default: the core ones)."""
    from modules.samplers.core import CORE_TABLE

    table = table or CORE_TABLE
    if scheduler != "Automatic" or not training.get("rescale_betas_zero_snr"):
        return scheduler
    if table.resolve_schedule(sampler_name, scheduler).label in ("Karras", "Exponential"):
        return "SGM Uniform"
    if table.find_sampler(sampler_name).name in EVEN_RATIO_SAMPLERS:
        return "Exponential"
    return scheduler


def sampling_betas(training: dict[str, Any]) -> list[float] | None:
    """The betas a sampler must use for this model, or None when the plain schedule kwargs do
    (models without the zero-terminal-SNR flag)."""
    if not training.get("rescale_betas_zero_snr"):
        return None
    return betas_from_alphas_cumprod(rescale_zero_terminal_snr(alphas_cumprod(training))).tolist()
