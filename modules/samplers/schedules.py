"""A1111's sigma schedule types as pure functions: (steps, the model's training sigmas) -> the steps' sigmas.

Each function returns `steps` sigmas, falling from (about) the model's highest sigma to (about) its lowest;
the sampler appends the final 0 itself. training_sigmas holds the sigma of every training timestep,
rising with the timestep (index 0: sigma_min, about 0.029 for SD; index -1: sigma_max, about 14.6, or 4519
on a zero-terminal-SNR schedule). The formulas:

- Polyexponential (k-diffusion, rho 1): evenly spaced in ramp ** rho between log sigma_max and log sigma_min;
  with rho 1 the same as Exponential.
- KL Optimal (Sabour et al. 2024, "Align Your Steps", appendix): evenly spaced in arctan(sigma). A1111's
  own list ends at sigma_min without a final 0 (its samplers stop at 0.029); here the last step goes on to 0
  as with every other schedule type.
- Align Your Steps (NVIDIA's published 10-step tables, SD1.5 and SDXL): the 11 sigmas of the table for the
  model's architecture, resampled to `steps` by linear interpolation of log sigma.
- Simple: every (T / steps)-th training sigma from the top.
- Normal: evenly spaced timesteps (fractional), each sigma interpolated in log sigma between training steps.
- DDIM: the training sigmas at timesteps 1, 1 + T // steps, 1 + 2 * (T // steps), ... (DDIM's "leading"
  spacing), highest first. A1111 continues that series to T, which is one step more than asked when
  T // steps does not divide T - 1 evenly (30 steps: 31); here it is always `steps` sigmas.
- Beta (Lee et al. 2024, "Beta Sampling is All You Need"): sigma_min + q * (sigma_max - sigma_min), q the
  quantiles of Beta(alpha, beta) at evenly spaced probabilities from 1 down to 0 (A1111 1.10's form,
  alpha = beta = 0.6 by default).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from modules.samplers.euler_ancestral import exponential_sigmas, karras_sigmas

# NVIDIA's Align Your Steps sigmas for 10 steps (11 values, the last is where the 10th step ends)
AYS_SD15 = (14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029)
AYS_SDXL = (14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.380, 0.234, 0.113, 0.029)
BETA_ALPHA = 0.6  # A1111's defaults ("Beta schedule alpha" / "beta")
BETA_BETA = 0.6
POLYEXPONENTIAL_RHO = 1.0


def training_sigmas(alphas_cumprod: np.ndarray) -> np.ndarray:
    """The sigma of each training timestep, sqrt((1 - alpha_bar) / alpha_bar), rising with the timestep."""
    alphas = np.asarray(alphas_cumprod, dtype=np.float64)
    return np.sqrt((1.0 - alphas) / alphas)


def sigma_at(timesteps: np.ndarray, training: np.ndarray) -> np.ndarray:
    """Sigma at fractional timesteps, interpolated in log sigma between training steps (k-diffusion's t_to_sigma)."""
    return np.exp(np.interp(timesteps, np.arange(len(training)), np.log(training)))


def polyexponential(steps: int, training: np.ndarray, rho: float = POLYEXPONENTIAL_RHO) -> np.ndarray:
    low, high = np.log(training[0]), np.log(training[-1])
    ramp = np.linspace(1.0, 0.0, steps) ** rho
    return np.exp(low + ramp * (high - low))


def kl_optimal(steps: int, training: np.ndarray) -> np.ndarray:
    return np.tan(np.linspace(np.arctan(training[-1]), np.arctan(training[0]), steps))


def align_your_steps(steps: int, arch: str = "sd1") -> np.ndarray:
    table = np.log(np.array(AYS_SDXL if arch == "sdxl" else AYS_SD15))
    return np.exp(np.interp(np.linspace(0.0, 1.0, steps), np.linspace(0.0, 1.0, len(table)), table))


def simple(steps: int, training: np.ndarray) -> np.ndarray:
    stride = len(training) / steps
    return np.array([training[-(1 + int(i * stride))] for i in range(steps)])


def normal(steps: int, training: np.ndarray) -> np.ndarray:
    return sigma_at(np.linspace(len(training) - 1, 0, steps), training)


def ddim(steps: int, training: np.ndarray) -> np.ndarray:
    stride = max(len(training) // steps, 1)
    timesteps = np.minimum(1 + stride * np.arange(steps), len(training) - 1)
    return training[timesteps[::-1]]


def beta(steps: int, training: np.ndarray, alpha: float = BETA_ALPHA, beta_: float = BETA_BETA) -> np.ndarray:
    from scipy.special import betaincinv

    low, high = float(training[0]), float(training[-1])
    quantiles = betaincinv(alpha, beta_, 1.0 - np.linspace(0.0, 1.0, steps))
    return low + quantiles * (high - low)


def karras(steps: int, training: np.ndarray) -> np.ndarray:
    return karras_sigmas(float(training[0]), float(training[-1]), steps)


def exponential(steps: int, training: np.ndarray) -> np.ndarray:
    return exponential_sigmas(float(training[0]), float(training[-1]), steps)


def sgm_uniform(steps: int, training: np.ndarray) -> np.ndarray:
    """Evenly spaced timesteps from the top, the one at the bottom dropped (A1111's SGM Uniform)."""
    return sigma_at(np.linspace(len(training) - 1, 0, steps + 1)[:-1], training)


# schedule type API name -> (steps, training sigmas, model architecture) -> the steps' sigmas
SIGMA_SCHEDULES: dict[str, Callable[[int, np.ndarray, str], np.ndarray]] = {
    "uniform": lambda n, t, _arch: normal(n, t),
    "karras": lambda n, t, _arch: karras(n, t),
    "exponential": lambda n, t, _arch: exponential(n, t),
    "polyexponential": lambda n, t, _arch: polyexponential(n, t),
    "sgm_uniform": lambda n, t, _arch: sgm_uniform(n, t),
    "kl_optimal": lambda n, t, _arch: kl_optimal(n, t),
    "align_your_steps": lambda n, _t, arch: align_your_steps(n, arch),
    "simple": lambda n, t, _arch: simple(n, t),
    "normal": lambda n, t, _arch: normal(n, t),
    "ddim": lambda n, t, _arch: ddim(n, t),
    "beta": lambda n, t, _arch: beta(n, t),
}


def schedule_sigmas(name: str, steps: int, training: np.ndarray, arch: str = "sd1") -> np.ndarray:
    """The `steps` sigmas of the schedule type with this API name (KeyError for one not listed here)."""
    return np.asarray(SIGMA_SCHEDULES[name](steps, np.asarray(training, dtype=np.float64), arch), dtype=np.float64)


def config_schedule(config: dict | object) -> str:
    """The API name of the sigma schedule a scheduler config asks for: its sigma_schedule, else the diffusers
    flags (use_karras_sigmas, use_exponential_sigmas), else the timestep spacing ("trailing": SGM Uniform),
    else "uniform"."""
    get = config.get if isinstance(config, dict) else lambda key, default=None: getattr(config, key, default)
    if get("sigma_schedule"):
        return str(get("sigma_schedule"))
    if get("use_karras_sigmas"):
        return "karras"
    if get("use_exponential_sigmas"):
        return "exponential"
    return "sgm_uniform" if get("timestep_spacing") == "trailing" else "uniform"
