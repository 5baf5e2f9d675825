"""Which layer of the loaded model a LoRA key names.

Built from the model's own module names: every Linear/Conv2d of the UNet and the text encoders gets
the names a file may use for it:

* kohya, diffusers paths with '_':   lora_unet_down_blocks_0_attentions_0_proj_in
* kohya, CompVis/LDM paths with '_': lora_unet_input_blocks_1_1_proj_in (common for SDXL)
* kohya text encoders: lora_te_<path> (SD1/SD2), lora_te1_<path> / lora_te2_<path> (SDXL), with the
  OpenCLIP spellings (mlp_c_fc, mlp_c_proj, attn_out_proj) accepted for the second SDXL encoder
* diffusers/PEFT: unet.<path>, text_encoder.<path>, text_encoder_2.<path>, or a bare UNet <path>
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from modules.model_manager.ldm_to_diffusers import rename_key, unet_rules

if TYPE_CHECKING:
    import torch

    from modules.model_manager.loaded_model import LoadedModel

Component = Literal["unet", "te"]
_OPENCLIP = (("_mlp_fc1", "_mlp_c_fc"), ("_mlp_fc2", "_mlp_c_proj"), ("_self_attn_out_proj", "_attn_out_proj"))


@dataclass(frozen=True)
class Target:
    component: Component
    name: str  # the module path inside its model, e.g. "down_blocks.0.attentions.0.proj_in"
    module: torch.nn.Module

    @property
    def weight(self) -> torch.Tensor:
        return self.module.weight  # type: ignore[return-value]


def _layers(root: torch.nn.Module) -> list[tuple[str, torch.nn.Module]]:
    import torch

    return [(name, m) for name, m in root.named_modules()
            if isinstance(m, torch.nn.Linear | torch.nn.Conv2d) and name]


def target_map(model: LoadedModel) -> dict[str, Target]:
    """Every name a LoRA file may use for a layer of this model → the layer."""
    names: dict[str, Target] = {}
    rules = unet_rules(model.unet.config)
    for name, module in _layers(model.unet):
        target = Target("unet", name, module)
        names["lora_unet_" + name.replace(".", "_")] = target
        names["unet." + name] = target
        names[name] = target
        ldm = rename_key(name + ".weight", rules, to_diffusers=False)
        if ldm is not None:
            names["lora_unet_" + ldm.removesuffix(".weight").replace(".", "_")] = target
    encoders = model.text_encoders
    for index, encoder in enumerate(encoders):
        kohya = "lora_te_" if len(encoders) == 1 else f"lora_te{index + 1}_"
        diffusers = "text_encoder." if index == 0 else f"text_encoder_{index + 1}."
        for name, module in _layers(encoder):
            target = Target("te", name, module)
            # files name the layers as transformers 4 did: text_model.encoder.layers.0...
            full = name if name.startswith("text_model.") or name == "text_projection" else "text_model." + name
            flat = full.replace(".", "_")
            names[kohya + flat] = target
            names[diffusers + full] = target
            if index == 1:
                for src, dst in _OPENCLIP:
                    if src in flat:
                        names[kohya + flat.replace(src, dst)] = target
    return names
