"""A diffusers attention processor that passes the key/value context through hypernetworks first.

Set with unet.set_attn_processor() for the length of a generation (see hypernetworks.applied_hypernetworks);
no function of torch or diffusers is replaced. Several hypernetworks chain: each one's k-module acts
on the previous k context, its v-module on the previous v context (A1111's order).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from modules.networks.hypernetworks import Hypernetwork


def hyper_contexts(networks: Sequence[Hypernetwork], context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    context_k = context_v = context
    for network in networks:
        context_k, _ = network.apply(context_k)
        _, context_v = network.apply(context_v)
    return context_k, context_v


class HypernetworkAttnProcessor:
    """Scaled-dot-product attention with hypernetwork-transformed key and value contexts."""

    def __init__(self, networks: Sequence[Hypernetwork]) -> None:
        self.networks = list(networks)

    def __call__(self, attn: Any, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor | None = None,
                 attention_mask: torch.Tensor | None = None, temb: torch.Tensor | None = None,
                 *args: Any, **kwargs: Any) -> torch.Tensor:
        import torch.nn.functional as F  # noqa: N812

        residual = hidden_states
        if attn.spatial_norm is not None:
            hidden_states = attn.spatial_norm(hidden_states, temb)
        spatial = hidden_states.ndim == 4
        if spatial:
            batch, channels, height, width = hidden_states.shape
            hidden_states = hidden_states.view(batch, channels, height * width).transpose(1, 2)
        context = hidden_states if encoder_hidden_states is None else encoder_hidden_states
        batch, length = context.shape[0], context.shape[1]
        if attention_mask is not None:
            attention_mask = attn.prepare_attention_mask(attention_mask, length, batch)
            attention_mask = attention_mask.view(batch, attn.heads, -1, attention_mask.shape[-1])
        if attn.group_norm is not None:
            hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        query = attn.to_q(hidden_states)
        if encoder_hidden_states is None:
            context = hidden_states
        elif attn.norm_cross:
            context = attn.norm_encoder_hidden_states(encoder_hidden_states)
        context_k, context_v = hyper_contexts(self.networks, context)
        key = attn.to_k(context_k)
        value = attn.to_v(context_v)
        head_dim = key.shape[-1] // attn.heads
        query = query.view(batch, -1, attn.heads, head_dim).transpose(1, 2)
        key = key.view(batch, -1, attn.heads, head_dim).transpose(1, 2)
        value = value.view(batch, -1, attn.heads, head_dim).transpose(1, 2)
        if attn.norm_q is not None:
            query = attn.norm_q(query)
        if attn.norm_k is not None:
            key = attn.norm_k(key)
        out = F.scaled_dot_product_attention(query, key, value, attn_mask=attention_mask, dropout_p=0.0, is_causal=False)
        out = out.transpose(1, 2).reshape(batch, -1, attn.heads * head_dim).to(query.dtype)
        out = attn.to_out[1](attn.to_out[0](out))
        if spatial:
            out = out.transpose(-1, -2).reshape(batch, channels, height, width)
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor
