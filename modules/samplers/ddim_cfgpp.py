"""DDIM CFG++: DDIM whose step back to the next noise level follows the unconditional prediction (CFG++, Chung
et al. 2024, "CFG++: Manifold-constrained Classifier Free Guidance for Diffusion Models"), as A1111 runs it.

A DDIM step from alpha_bar a to a' (deterministic, eta 0) with guided noise prediction eps_g and unconditional
one eps_u:

    x0 = (x - sqrt(1 - a) eps_g) / sqrt(a)          the clean latents, from the guided prediction
    x' = sqrt(a') x0 + sqrt(1 - a') eps_u           renoised along the UNCONDITIONAL prediction (DDIM: eps_g)

CFG++ guides with a scale lambda in [0, 1]; like A1111 this program maps its CFG scale onto it as
lambda = CFG / 12.5 (CFG 12.5 is lambda 1). The division happens here, in step(): the loop
(modules/generation/denoise.py) combines the predictions at the user's CFG scale as for every sampler,
eps = eps_u + CFG (eps_c - eps_u), and hands this scheduler that and eps_u (it asks for `uncond_pred`, so
the unconditional prediction is computed even at CFG 1); step() uses eps_g = eps_u + (eps - eps_u) / 12.5,
which is eps_u + lambda (eps_c - eps_u). POST_CFG hooks therefore see the guidance at the user's scale.
v-prediction models: x0 and the noise are derived from each prediction as DDIM does. Its timesteps are
DDIM's (modules/samplers/core.py gives it DDIM's settings). Where cond and uncond agree it is DDIM exactly.
"""

from __future__ import annotations

from functools import cache
from typing import Any

CFG_DIVISOR = 12.5  # A1111: the CFG scale 0 .. 12.5 is CFG++'s lambda 0 .. 1


def split_prediction(output: Any, sample: Any, alpha: Any, prediction_type: str) -> tuple[Any, Any]:
    """(predicted clean latents, predicted noise) from a model output at alpha_bar `alpha` (as DDIM derives them)."""
    beta = 1 - alpha
    if prediction_type == "epsilon":
        return (sample - beta**0.5 * output) / alpha**0.5, output
    if prediction_type == "sample":
        return output, (sample - alpha**0.5 * output) / beta**0.5
    if prediction_type == "v_prediction":
        return alpha**0.5 * sample - beta**0.5 * output, alpha**0.5 * output + beta**0.5 * sample
    raise ValueError(f"unsupported prediction type {prediction_type!r}")


@cache
def ddim_cfgpp_class() -> type:
    from diffusers import DDIMScheduler
    from diffusers.schedulers.scheduling_ddim import DDIMSchedulerOutput

    class DDIMCFGPPScheduler(DDIMScheduler):  # type: ignore[misc]
        def step(self, model_output: Any, timestep: Any, sample: Any, uncond_pred: Any = None,
                 return_dict: bool = True) -> Any:
            """One CFG++ step; without uncond_pred (nothing to renoise along) a plain DDIM step."""
            if uncond_pred is None:
                return super().step(model_output, timestep, sample, return_dict=return_dict)
            if self.num_inference_steps is None:
                raise ValueError("set_timesteps must be called before step")
            t = int(timestep)
            previous = t - self.config.num_train_timesteps // self.num_inference_steps
            alpha = self.alphas_cumprod[t]
            alpha_prev = self.alphas_cumprod[previous] if previous >= 0 else self.final_alpha_cumprod
            guided = uncond_pred + (model_output - uncond_pred) / CFG_DIVISOR
            x0, _ = split_prediction(guided, sample, alpha, self.config.prediction_type)
            _, eps_uncond = split_prediction(uncond_pred, sample, alpha, self.config.prediction_type)
            prev_sample = alpha_prev**0.5 * x0 + (1 - alpha_prev) ** 0.5 * eps_uncond
            if not return_dict:
                return (prev_sample, x0)
            return DDIMSchedulerOutput(prev_sample=prev_sample, pred_original_sample=x0)

    return DDIMCFGPPScheduler
