"""DPM2 a (diffusers' KDPM2AncestralDiscreteScheduler) with its ancestral sigmas computed without cancellation.

Each step of an ancestral sampler goes from sigma s down to sigma_down and then adds fresh noise of
sigma_up, so that sigma_down**2 + sigma_up**2 = next**2. diffusers 0.42 computes
sigma_down = sqrt(next**2 - sigma_up**2) in float32. When s is far above next (3 Karras steps on a
zero-terminal-SNR schedule go from sigma 113 to 0.029) the two squares agree to the last bit, and
sigma_down comes out as 0, a wrong tiny value or NaN depending on the CPU's rounding (0 on an AMD EPYC,
7.6e-6 on an Intel Xeon, where 7.5e-6 is right). At 0, the midpoint sigma (the geometric mean of s and
sigma_down) is 0 too, and the second model evaluation divides by it: NaN latents, a blank image.

The same quantities in closed form, sigma_down = next**2 / s and sigma_up = next * sqrt(1 - (next / s)**2),
computed in float64, have no cancellation; on ordinary schedules they equal diffusers' values to float32
precision. k-diffusion (A1111, ComfyUI) takes an Euler step where sigma_down is 0; with the closed form
sigma_down is 0 only where next is.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np


def ancestral_sigmas(sigmas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sigma_up, sigma_down, midpoint sigma) for the steps sigmas[i] -> sigmas[i + 1], in float64.

    sigmas is a schedule ending in 0 (as diffusers lays it out, one entry per step plus the final 0); entry
    i of each result belongs to the step that starts at sigmas[i], the last one to the step past the end
    (all 0). The midpoint is the geometric mean of s and sigma_down (with eta 1 that is next itself); that
    of the last real step is 0 as in diffusers: that step is a plain Euler step to 0.
    """
    start = np.asarray(sigmas, dtype=np.float64)
    following = np.append(start[1:], 0.0)
    ratio = np.divide(following, start, out=np.zeros_like(start), where=start > 0)
    down = following * ratio
    up = following * np.sqrt(np.clip(1.0 - ratio**2, 0.0, None))
    midpoint = np.sqrt(start * down)
    midpoint[-2:] = 0.0
    return up, down, midpoint


@cache
def stable_dpm2_ancestral_class() -> type:
    """The scheduler class for "DPM2 a": diffusers' own, with set_timesteps redoing the ancestral sigmas."""
    import torch
    from diffusers import KDPM2AncestralDiscreteScheduler

    class StableKDPM2AncestralDiscreteScheduler(KDPM2AncestralDiscreteScheduler):
        def set_timesteps(self, num_inference_steps: int, device: Any = None,
                          num_train_timesteps: int | None = None) -> None:
            super().set_timesteps(num_inference_steps, device=device, num_train_timesteps=num_train_timesteps)
            # diffusers keeps each per-step value twice (once per model evaluation of the step), around the
            # first and the last: [s0, s1, s1, s2, s2, ..., 0, 0, 0] -> one entry per step: every other one
            steps = self.sigmas[0::2].double().numpy()
            up, down, midpoint = ancestral_sigmas(steps)

            def laid_out(values: np.ndarray, like: torch.Tensor) -> torch.Tensor:
                tensor = torch.from_numpy(values).to(dtype=like.dtype, device=like.device)
                return torch.cat([tensor[:1], tensor[1:].repeat_interleave(2), tensor[-1:]])

            self.sigmas_up = laid_out(up, self.sigmas_up)
            self.sigmas_down = laid_out(down, self.sigmas_down)
            self.sigmas_interpol = laid_out(midpoint, self.sigmas_interpol)
            # the timesteps of the midpoint evaluations sit between those of the steps' starts
            log_sigmas = self.log_sigmas.cpu().numpy()
            midpoint_t = np.array([self._sigma_to_t(sigma, log_sigmas) for sigma in midpoint[:-2]])
            self.timesteps[1::2] = torch.from_numpy(midpoint_t).to(self.timesteps.dtype)

    return StableKDPM2AncestralDiscreteScheduler
