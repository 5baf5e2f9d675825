"""Key mapping between the original (LDM / "single file") layout and diffusers/transformers modules.

One table of prefix rules per component drives both directions, so converting diffusers -> LDM -> diffusers
gives back exactly the same tensors. The reverse direction lives in diffusers_to_ldm.py and reuses the rules.

Text-encoder keys are produced without transformers' "text_model." prefix ("embeddings.…", "encoder.…",
"final_layer_norm.…"); use `adapt_clip_keys` to match the prefix a given transformers model expects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modules.errors import CheckpointLoadError

if TYPE_CHECKING:
    import torch

UNET_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."
SD1_CLIP_PREFIX = "cond_stage_model.transformer.text_model."
SD2_OPENCLIP_PREFIX = "cond_stage_model.model."
SDXL_CLIP_PREFIX = "conditioner.embedders.0.transformer.text_model."
SDXL_OPENCLIP_PREFIX = "conditioner.embedders.1.model."

# keys inside a component that carry no weights the diffusers modules need
IGNORED_SUFFIXES = ("position_ids", "logit_scale", "attn_mask")

UNET_RESNET_INNER = (
    ("in_layers.0.", "norm1."),
    ("in_layers.2.", "conv1."),
    ("emb_layers.1.", "time_emb_proj."),
    ("out_layers.0.", "norm2."),
    ("out_layers.3.", "conv2."),
    ("skip_connection.", "conv_shortcut."),
)
VAE_RESNET_INNER = (("nin_shortcut.", "conv_shortcut."),)
VAE_ATTN_INNER = (
    ("norm.", "group_norm."),
    ("q.", "to_q."),
    ("k.", "to_k."),
    ("v.", "to_v."),
    ("proj_out.", "to_out.0."),
)
OPENCLIP_LAYER_INNER = (
    ("ln_1.", "layer_norm1."),
    ("ln_2.", "layer_norm2."),
    ("attn.out_proj.", "self_attn.out_proj."),
    ("mlp.c_fc.", "mlp.fc1."),
    ("mlp.c_proj.", "mlp.fc2."),
)


@dataclass(frozen=True)
class Rule:
    """Keys starting with `ldm` correspond to keys starting with `diffusers`; `inner` renames what follows."""

    ldm: str
    diffusers: str
    inner: tuple[tuple[str, str], ...] = ()


def _rename(key: str, rules: Iterable[Rule], to_diffusers: bool) -> str | None:
    best: Rule | None = None
    best_len = -1
    for rule in rules:
        prefix = rule.ldm if to_diffusers else rule.diffusers
        if key.startswith(prefix) and len(prefix) > best_len:
            best, best_len = rule, len(prefix)
    if best is None:
        return None
    rest = key[best_len:]
    for ldm_part, diffusers_part in best.inner:
        src, dst = (ldm_part, diffusers_part) if to_diffusers else (diffusers_part, ldm_part)
        if rest.startswith(src):
            rest = dst + rest[len(src) :]
            break
    return (best.diffusers if to_diffusers else best.ldm) + rest


def rename_key(key: str, rules: Iterable[Rule], to_diffusers: bool = True) -> str | None:
    """The key in the other layout, or None when no rule covers it."""
    return _rename(key, rules, to_diffusers)


def _has_attention(config: Mapping[str, Any], level: int) -> bool:
    return "CrossAttn" in config["down_block_types"][level]


def unet_rules(config: Mapping[str, Any]) -> list[Rule]:
    """Prefix rules for a UNet2DConditionModel config (LDM side without "model.diffusion_model.")."""
    n = len(config["block_out_channels"])
    layers = int(config["layers_per_block"])
    rules = [
        Rule("time_embed.0.", "time_embedding.linear_1."),
        Rule("time_embed.2.", "time_embedding.linear_2."),
        Rule("label_emb.0.0.", "add_embedding.linear_1."),
        Rule("label_emb.0.2.", "add_embedding.linear_2."),
        Rule("input_blocks.0.0.", "conv_in."),
        Rule("out.0.", "conv_norm_out."),
        Rule("out.2.", "conv_out."),
        Rule("middle_block.0.", "mid_block.resnets.0.", UNET_RESNET_INNER),
        Rule("middle_block.1.", "mid_block.attentions.0."),
        Rule("middle_block.2.", "mid_block.resnets.1.", UNET_RESNET_INNER),
    ]
    for level in range(n):
        for j in range(layers):
            idx = level * (layers + 1) + j + 1
            rules.append(Rule(f"input_blocks.{idx}.0.", f"down_blocks.{level}.resnets.{j}.", UNET_RESNET_INNER))
            if _has_attention(config, level):
                rules.append(Rule(f"input_blocks.{idx}.1.", f"down_blocks.{level}.attentions.{j}."))
        if level < n - 1:
            idx = (level + 1) * (layers + 1)
            rules.append(Rule(f"input_blocks.{idx}.0.op.", f"down_blocks.{level}.downsamplers.0.conv."))
    for block in range(n):
        attention = "CrossAttn" in config["up_block_types"][block]
        for j in range(layers + 1):
            idx = block * (layers + 1) + j
            rules.append(Rule(f"output_blocks.{idx}.0.", f"up_blocks.{block}.resnets.{j}.", UNET_RESNET_INNER))
            if attention:
                rules.append(Rule(f"output_blocks.{idx}.1.", f"up_blocks.{block}.attentions.{j}."))
            if block < n - 1 and j == layers:
                sub = 2 if attention else 1
                rules.append(Rule(f"output_blocks.{idx}.{sub}.conv.", f"up_blocks.{block}.upsamplers.0.conv."))
    return rules


def vae_rules(config: Mapping[str, Any]) -> list[Rule]:
    """Prefix rules for an AutoencoderKL config (LDM side without "first_stage_model.")."""
    n = len(config["block_out_channels"])
    layers = int(config["layers_per_block"])
    rules = [Rule(f"{k}.", f"{k}.") for k in ("quant_conv", "post_quant_conv")]
    for part in ("encoder", "decoder"):
        rules += [
            Rule(f"{part}.conv_in.", f"{part}.conv_in."),
            Rule(f"{part}.conv_out.", f"{part}.conv_out."),
            Rule(f"{part}.norm_out.", f"{part}.conv_norm_out."),
            Rule(f"{part}.mid.block_1.", f"{part}.mid_block.resnets.0.", VAE_RESNET_INNER),
            Rule(f"{part}.mid.block_2.", f"{part}.mid_block.resnets.1.", VAE_RESNET_INNER),
            Rule(f"{part}.mid.attn_1.", f"{part}.mid_block.attentions.0.", VAE_ATTN_INNER),
        ]
    for i in range(n):
        for j in range(layers):
            rules.append(
                Rule(f"encoder.down.{i}.block.{j}.", f"encoder.down_blocks.{i}.resnets.{j}.", VAE_RESNET_INNER)
            )
        if i < n - 1:
            rules.append(Rule(f"encoder.down.{i}.downsample.conv.", f"encoder.down_blocks.{i}.downsamplers.0.conv."))
        up = n - 1 - i
        for j in range(layers + 1):
            rules.append(Rule(f"decoder.up.{i}.block.{j}.", f"decoder.up_blocks.{up}.resnets.{j}.", VAE_RESNET_INNER))
        if i > 0:
            rules.append(Rule(f"decoder.up.{i}.upsample.conv.", f"decoder.up_blocks.{up}.upsamplers.0.conv."))
    return rules


def openclip_rules(num_layers: int) -> list[Rule]:
    """Rules for OpenCLIP text towers (LDM side without its prefix); in_proj and text_projection are special."""
    rules = [
        Rule("token_embedding.", "embeddings.token_embedding."),
        Rule("positional_embedding", "embeddings.position_embedding.weight"),
        Rule("ln_final.", "final_layer_norm."),
    ]
    rules += [
        Rule(f"transformer.resblocks.{i}.", f"encoder.layers.{i}.", OPENCLIP_LAYER_INNER) for i in range(num_layers)
    ]
    return rules


def is_vae_attention_weight(diffusers_key: str) -> bool:
    return ".mid_block.attentions." in diffusers_key and diffusers_key.endswith(
        ("to_q.weight", "to_k.weight", "to_v.weight", "to_out.0.weight")
    )


def _ignored(key: str) -> bool:
    return key.endswith(IGNORED_SUFFIXES)


def _take(sd: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}


def _apply(part: Mapping[str, torch.Tensor], rules: list[Rule], what: str) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    unknown: list[str] = []
    for key, value in part.items():
        if _ignored(key):
            continue
        new = _rename(key, rules, True)
        if new is None:
            unknown.append(key)
        else:
            out[new] = value
    if unknown:
        shown = ", ".join(sorted(unknown)[:5])
        raise CheckpointLoadError(f"the {what} contains weights this program does not know ({shown})")
    return out


def convert_unet(sd: Mapping[str, torch.Tensor], config: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """LDM state dict (full checkpoint keys) -> UNet2DConditionModel state dict."""
    return _apply(_take(sd, UNET_PREFIX), unet_rules(config), "UNet")


def convert_vae(
    sd: Mapping[str, torch.Tensor], config: Mapping[str, Any], prefix: str = VAE_PREFIX
) -> dict[str, torch.Tensor]:
    """LDM state dict -> AutoencoderKL state dict (1x1 conv attention weights become linear weights)."""
    out = _apply(_take(sd, prefix), vae_rules(config), "VAE")
    for key, value in out.items():
        if is_vae_attention_weight(key) and value.ndim == 4:
            out[key] = value[:, :, 0, 0]
    return out


def convert_clip_l(sd: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """HF-CLIP text encoder stored under prefix ("…transformer.text_model.") -> keys without "text_model."."""
    base = prefix.removesuffix("text_model.")
    part: dict[str, torch.Tensor] = {}
    for key, value in _take(sd, base).items():
        # very old checkpoints lack the "text_model." level (transformers < 4.?)
        part[key if key.startswith("text_model.") else "text_model." + key] = value
    return {k.removeprefix("text_model."): v for k, v in part.items() if not _ignored(k)}


def convert_open_clip(sd: Mapping[str, torch.Tensor], prefix: str, with_projection: bool) -> dict[str, torch.Tensor]:
    """OpenCLIP text tower under prefix -> CLIPTextModel(WithProjection) keys (without "text_model.").

    attn.in_proj_weight/bias hold q, k and v stacked; text_projection is used as x @ P, so the Linear
    weight is its transpose. Without with_projection (SD2) the projection is dropped: CLIPTextModel has none.
    """
    part = _take(sd, prefix)
    if "token_embedding.weight" not in part:
        raise CheckpointLoadError("the OpenCLIP text encoder has no token embedding")
    width = int(part["token_embedding.weight"].shape[1])
    num_layers = len({k.split(".")[2] for k in part if k.startswith("transformer.resblocks.")})
    rules = openclip_rules(num_layers)
    rest: dict[str, torch.Tensor] = {}
    out: dict[str, torch.Tensor] = {}
    for key, value in part.items():
        if key == "text_projection":
            if with_projection:
                out["text_projection.weight"] = value.T.contiguous()
        elif key.endswith((".attn.in_proj_weight", ".attn.in_proj_bias")):
            layer = key.split(".")[2]
            kind = "weight" if key.endswith("weight") else "bias"
            for n, name in enumerate(("q_proj", "k_proj", "v_proj")):
                out[f"encoder.layers.{layer}.self_attn.{name}.{kind}"] = value[n * width : (n + 1) * width].clone()
        else:
            rest[key] = value
    out.update(_apply(rest, rules, "OpenCLIP text encoder"))
    return out


def adapt_clip_keys(sd: Mapping[str, torch.Tensor], model: Any) -> dict[str, torch.Tensor]:
    """Add transformers' "text_model." prefix where the given model's state dict uses it."""
    model_keys = model.state_dict().keys()
    prefixed = any(k.startswith("text_model.") for k in model_keys)
    if not prefixed:
        return dict(sd)
    return {(k if k == "text_projection.weight" else "text_model." + k): v for k, v in sd.items()}
