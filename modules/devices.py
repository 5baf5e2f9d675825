"""Pick the torch device and dtypes from Settings. Probes hardware only when called."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from modules.settings import Settings


@dataclass(frozen=True)
class DevicePlan:
    device: torch.device
    dtype: torch.dtype
    vae_dtype: torch.dtype

    @property
    def precision_name(self) -> str:
        return str(self.dtype).removeprefix("torch.")


def plan_devices(settings: Settings) -> DevicePlan:
    import torch

    name = settings.device
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            name = "mps"
        else:
            name = "cpu"
    device = torch.device(name)
    precision = settings.precision
    if precision == "auto":
        precision = "fp32" if name == "cpu" else "fp16"
    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]
    vae_dtype = torch.float32 if settings.no_half_vae else dtype
    return DevicePlan(device=device, dtype=dtype, vae_dtype=vae_dtype)
