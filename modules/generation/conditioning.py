"""Text encoder calls: prompts → the tensors the UNet is conditioned on, with CLIP skip.

Prompt syntax (weights, schedules, long prompts) builds on encode_texts; this file only turns plain
texts into embeddings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from modules.model_manager.loaded_model import LoadedModel


@dataclass
class Conditioning:
    embeds: torch.Tensor  # [batch, tokens, dim]
    pooled: torch.Tensor | None = None  # SDXL only: [batch, pooled_dim]


def _hidden_layer(model: LoadedModel, encoder_index: int, clip_skip: int) -> tuple[int, bool]:
    """(index into hidden_states, whether to apply the final layer norm) for this architecture.

    SD1: the last layer, or layer -clip_skip followed by the final norm (as A1111 does).
    SD2: the penultimate layer of OpenCLIP, then the final norm (SD2's training setup); a text
    encoder already cut to 23 layers (diffusers folders) uses its last layer.
    SDXL: both encoders' penultimate layer, no final norm.
    """
    skip = max(1, clip_skip)
    if model.arch == "sd1":
        return -skip, True
    if model.arch == "sd2":
        layers = model.text_encoders[encoder_index].config.num_hidden_layers
        offset = 1 if layers % 2 == 0 else 0  # 24-layer OpenCLIP ViT-H keeps its last layer; diffusers has 23
        return -(skip + offset), True
    return -(skip + 1), False


def encode_texts(model: LoadedModel, texts: list[str], clip_skip: int = 1) -> Conditioning:
    """Encode each text (truncated to the 77-token window) with every text encoder of the model."""
    import torch

    parts: list[torch.Tensor] = []
    pooled: torch.Tensor | None = None
    for index, (tokenizer, encoder) in enumerate(zip(model.tokenizers, model.text_encoders, strict=True)):
        tokens = tokenizer(texts, padding="max_length", max_length=tokenizer.model_max_length,
                           truncation=True, return_tensors="pt")
        ids = tokens.input_ids.to(encoder.device)
        with torch.no_grad():
            out = encoder(ids, output_hidden_states=True)
        layer, final_norm = _hidden_layer(model, index, clip_skip)
        hidden = out.hidden_states[layer]
        if final_norm and layer != -1:
            hidden = encoder.text_model.final_layer_norm(hidden)
        elif final_norm:
            hidden = out.last_hidden_state
        parts.append(hidden)
        if hasattr(out, "text_embeds"):
            pooled = out.text_embeds
    return Conditioning(embeds=torch.cat(parts, dim=-1), pooled=pooled)
