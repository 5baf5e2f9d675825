"""Text encoder calls: prompt texts → the tensors the UNet is conditioned on.

Each text is cut into 75-token chunks (prompt_chunks.py); every chunk is encoded on its own (with
start/end/pad tokens, CLIP skip) and the chunks are concatenated along the token axis (77·N tokens).
Per-token weights are applied to the encoder output as A1111's emphasis modes do. SDXL: both encoders
chunk the same text, their outputs are joined per token, pooled comes from the first chunk of the
second encoder. Texts in one batch with fewer chunks get empty chunks (as in A1111).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modules.generation.prompt_chunks import (
    DEFAULT_COMMA_BACKTRACK,
    EmbeddingFinder,
    PromptChunk,
    SpecialTokens,
    empty_chunk,
    prompt_chunks,
)

if TYPE_CHECKING:
    import torch

    from modules.model_manager.loaded_model import LoadedModel


@dataclass
class Conditioning:
    embeds: torch.Tensor  # [batch, tokens, dim]
    pooled: torch.Tensor | None = None  # SDXL only: [batch, pooled_dim]

    @property
    def tokens(self) -> int:
        return int(self.embeds.shape[1])


@dataclass
class ComposableConditioning:
    """AND (composable diffusion): one conditioning per subprompt with its weight (may be negative)."""

    parts: list[tuple[Conditioning, float]] = field(default_factory=list)


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


def _final_norm(encoder: Any) -> torch.nn.Module:
    """The text encoder's final layer norm (transformers 5 flattened CLIPTextModel; older versions nest it)."""
    inner = getattr(encoder, "text_model", encoder)
    return inner.final_layer_norm


def apply_emphasis(z: torch.Tensor, multipliers: torch.Tensor, mode: str) -> torch.Tensor:
    """Weights on a chunk's encoder output [batch, 77, dim]; multipliers [batch, 77].

    Original: multiply, then rescale so the mean of the whole tensor is unchanged. No norm: multiply
    only. Ignore / None: unchanged.
    """
    if mode not in ("Original", "No norm") or bool((multipliers == 1.0).all()):
        return z
    original = z.float()
    weighted = original * multipliers.to(original.device, original.dtype).unsqueeze(-1)
    new_mean = weighted.mean()
    if mode == "Original" and new_mean != 0:  # a zero mean (untrained layer norm) would give NaN
        weighted = weighted * (original.mean() / new_mean)
    return weighted.to(z.dtype)


@contextmanager
def _embedding_fixes(encoder: Any, chunks: list[PromptChunk]) -> Iterator[None]:
    """Put textual-inversion vectors over their placeholder tokens while the encoder runs.

    The embeddings feature supplies an EmbeddingFinder; build_chunks records where each embedding
    goes (PromptChunk.fixes) and this hook writes the vectors into the token embeddings of that row.
    """
    if not any(chunk.fixes for chunk in chunks):
        yield
        return

    def replace_rows(_module: Any, _inputs: Any, output: torch.Tensor) -> torch.Tensor:
        output = output.clone()
        for row, chunk in enumerate(chunks):
            for fix in chunk.fixes:
                vectors = fix.embedding.vectors.to(output.device, output.dtype)
                output[row, fix.offset:fix.offset + fix.embedding.vector_count] = vectors
        return output

    handle = encoder.get_input_embeddings().register_forward_hook(replace_rows)
    try:
        yield
    finally:
        handle.remove()


def encode_chunks(
    model: LoadedModel, encoder_index: int, chunks: list[PromptChunk], clip_skip: int, emphasis: str
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(hidden states [batch, 77, dim] with weights applied, pooled or None) for one chunk per batch row."""
    import torch

    encoder = model.text_encoders[encoder_index]
    special = SpecialTokens.of(model.tokenizers[encoder_index])
    rows = []
    for chunk in chunks:
        row = list(chunk.tokens)
        if special.pad != special.end:  # OpenCLIP: pad token after the first end token
            first_end = row.index(special.end)
            row[first_end + 1:] = [special.pad] * (len(row) - first_end - 1)
        rows.append(row)
    ids = torch.tensor(rows, dtype=torch.long, device=encoder.device)
    with _embedding_fixes(encoder, chunks):
        out = encoder(ids, output_hidden_states=True)
    layer, final_norm = _hidden_layer(model, encoder_index, clip_skip)
    hidden = out.hidden_states[layer]
    if final_norm and layer != -1:
        hidden = _final_norm(encoder)(hidden)
    elif final_norm:
        hidden = out.last_hidden_state
    multipliers = torch.tensor([chunk.multipliers for chunk in chunks], dtype=torch.float32)
    pooled = getattr(out, "text_embeds", None)
    return apply_emphasis(hidden, multipliers, emphasis), pooled


# (encoder index, token ids, multipliers) of a lone chunk -> its (hidden states, pooled) from encode_chunks
ChunkCache = dict[tuple[int, tuple[int, ...], tuple[float, ...]], "tuple[torch.Tensor, torch.Tensor | None]"]


def _chunk_key(encoder_index: int, batch: list[PromptChunk]) -> tuple[int, tuple[int, ...], tuple[float, ...]] | None:
    """The cache key of a batch of one chunk without embeddings; None when it cannot be shared: emphasis
    "Original" restores the mean over the whole batch, and embedding vectors are not in the key."""
    if len(batch) != 1 or batch[0].fixes:
        return None
    return encoder_index, tuple(batch[0].tokens), tuple(batch[0].multipliers)


def encode_texts(
    model: LoadedModel,
    texts: list[str],
    clip_skip: int = 1,
    emphasis: str = "Original",
    comma_backtrack: int = DEFAULT_COMMA_BACKTRACK,
    find_embedding: EmbeddingFinder | Sequence[EmbeddingFinder | None] | None = None,
    *,
    field: str = "prompt",
    chunk_cache: ChunkCache | None = None,
) -> Conditioning:
    """Encode each text (any length, A1111 prompt weights and BREAK) with every text encoder of the model.

    find_embedding: one finder for every encoder, or a sequence with one per encoder (SDXL: the
    embeddings' clip_l vectors for the first encoder, clip_g for the second).
    InvalidParams (naming `field`) for a text of more than MAX_PROMPT_CHUNKS chunks, before any encoding.
    A single text's chunks are encoded once per distinct chunk ("a BREAK a BREAK a" runs the encoder
    once); chunk_cache shares them between calls with the same model, clip skip and emphasis.
    """
    import torch

    from modules.errors import InvalidParams
    from modules.prompt_limits import chunk_problem

    finders = (list(find_embedding) if isinstance(find_embedding, Sequence)
               else [find_embedding] * len(model.tokenizers))
    per_encoder = [[prompt_chunks(tokenizer, text, emphasis, comma_backtrack, finder)[0] for text in texts]
                   for tokenizer, finder in zip(model.tokenizers, finders, strict=True)]
    count = max(len(chunks) for per_text in per_encoder for chunks in per_text)
    problem = chunk_problem(count, field)
    if problem:
        raise InvalidParams(problem)
    cache: ChunkCache = chunk_cache if chunk_cache is not None else {}
    steps: list[torch.Tensor] = []
    pooled: torch.Tensor | None = None
    with torch.no_grad():
        for index in range(count):
            parts: list[torch.Tensor] = []
            for encoder_index, per_text in enumerate(per_encoder):
                empty = empty_chunk(SpecialTokens.of(model.tokenizers[encoder_index]))
                batch = [chunks[index] if index < len(chunks) else empty for chunks in per_text]
                key = _chunk_key(encoder_index, batch)
                if key is None:
                    hidden, chunk_pooled = encode_chunks(model, encoder_index, batch, clip_skip, emphasis)
                else:
                    if key not in cache:
                        cache[key] = encode_chunks(model, encoder_index, batch, clip_skip, emphasis)
                    hidden, chunk_pooled = cache[key]
                parts.append(hidden)
                if index == 0 and chunk_pooled is not None:
                    pooled = chunk_pooled
            steps.append(torch.cat(parts, dim=-1))
    return Conditioning(embeds=torch.cat(steps, dim=1), pooled=pooled)
