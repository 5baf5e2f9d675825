"""Prompt text → CLIP token chunks of 75 (+ start and end token) with a weight per token.

Pure code (no torch): the tokenizer is only called, the model never. A1111's rules (compatibility
reference, section 4.5): a chunk that fills up while a comma lies within the last `comma_backtrack`
tokens is cut after that comma and the rest moves on; BREAK closes the chunk at once; every chunk is
padded with the end token. The token count is 75 for each closed chunk plus the tokens of the last.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from modules.prompt_parser import parse_prompt_attention

CHUNK_LENGTH = 75
EMPHASIS_MODES = ("Original", "No norm", "Ignore", "None")
DEFAULT_COMMA_BACKTRACK = 20


@dataclass(frozen=True)
class SpecialTokens:
    start: int
    end: int
    pad: int  # SD1's CLIP-L pads with the end token; OpenCLIP (SD2, SDXL's second encoder) with 0
    comma: int | None

    @staticmethod
    def of(tokenizer: Any) -> SpecialTokens:
        # one look-up, not get_vocab(): that copies the 49k-entry vocabulary (25 ms) on every call
        comma = tokenizer.convert_tokens_to_ids(",</w>")
        if comma == tokenizer.unk_token_id:  # a vocabulary without it answers with the unknown token
            comma = None
        return SpecialTokens(start=tokenizer.bos_token_id, end=tokenizer.eos_token_id,
                             pad=tokenizer.pad_token_id, comma=comma)


@dataclass(frozen=True)
class EmbeddingMatch:
    """A textual-inversion embedding found in the token stream (supplied by the embeddings feature)."""

    name: str
    vectors: Any  # [vector_count, dim] tensor, placed over the placeholder tokens
    vector_count: int
    token_count: int  # how many prompt tokens its name took


# (token ids of one prompt segment, position) -> the embedding whose name starts there, or None
EmbeddingFinder = Callable[[Sequence[int], int], EmbeddingMatch | None]


@dataclass(frozen=True)
class EmbeddingFix:
    offset: int  # index in the 77-token chunk where the vectors go
    embedding: EmbeddingMatch


@dataclass
class PromptChunk:
    tokens: list[int] = field(default_factory=list)
    multipliers: list[float] = field(default_factory=list)
    fixes: list[EmbeddingFix] = field(default_factory=list)


def weighted_segments(text: str, emphasis: str = "Original") -> list[tuple[str, float]]:
    """The (text, weight) runs CLIP sees; emphasis "None" keeps brackets (and BREAK) as plain text."""
    if emphasis == "None":
        return [(text, 1.0)]
    return [(run_text, run_weight) for run_text, run_weight in parse_prompt_attention(text)]


def empty_chunk(special: SpecialTokens) -> PromptChunk:
    return PromptChunk(tokens=[special.start] + [special.end] * (CHUNK_LENGTH + 1),
                       multipliers=[1.0] * (CHUNK_LENGTH + 2))


def build_chunks(
    segments: Sequence[tuple[str, float]],
    token_ids: Sequence[Sequence[int]],
    special: SpecialTokens,
    comma_backtrack: int = DEFAULT_COMMA_BACKTRACK,
    find_embedding: EmbeddingFinder | None = None,
) -> tuple[list[PromptChunk], int]:
    """(chunks of 77 tokens, token count) from weighted segments and each segment's token ids."""
    chunks: list[PromptChunk] = []
    current = PromptChunk()
    count = 0
    last_comma = -1

    def close(final: bool = False) -> None:
        nonlocal current, count, last_comma
        count += len(current.tokens) if final else CHUNK_LENGTH
        missing = CHUNK_LENGTH - len(current.tokens)
        current.tokens = [special.start, *current.tokens, *[special.end] * missing, special.end]
        current.multipliers = [1.0, *current.multipliers, *[1.0] * missing, 1.0]
        current.fixes = [EmbeddingFix(fix.offset + 1, fix.embedding) for fix in current.fixes]
        chunks.append(current)
        current = PromptChunk()
        last_comma = -1

    for ids, (text, weight) in zip(token_ids, segments, strict=True):
        if text == "BREAK" and weight == -1:
            close()
            continue
        position = 0
        while position < len(ids):
            token = ids[position]
            if token == special.comma:
                last_comma = len(current.tokens)
            elif (comma_backtrack and len(current.tokens) == CHUNK_LENGTH and last_comma != -1
                  and len(current.tokens) - last_comma <= comma_backtrack):
                cut = last_comma + 1
                moved = PromptChunk(current.tokens[cut:], current.multipliers[cut:],
                                    [EmbeddingFix(f.offset - cut, f.embedding) for f in current.fixes if f.offset >= cut])
                current.tokens, current.multipliers = current.tokens[:cut], current.multipliers[:cut]
                current.fixes = [f for f in current.fixes if f.offset < cut]
                close()
                current = moved
            if len(current.tokens) == CHUNK_LENGTH:
                close()
            match = find_embedding(ids, position) if find_embedding is not None else None
            if match is None:
                current.tokens.append(token)
                current.multipliers.append(weight)
                position += 1
                continue
            # an embedding's vectors never straddle two chunks
            if len(current.tokens) + match.vector_count > CHUNK_LENGTH:
                close()
            current.fixes.append(EmbeddingFix(len(current.tokens), match))
            current.tokens += [0] * match.vector_count
            current.multipliers += [weight] * match.vector_count
            position += match.token_count
    if current.tokens or not chunks:
        close(final=True)
    return chunks, count


def tokenize_segments(tokenizer: Any, segments: Sequence[tuple[str, float]]) -> list[list[int]]:
    """Token ids of each segment, without start/end tokens and without truncation."""
    if not segments:
        return []
    texts = [text for text, _ in segments]
    return [list(ids) for ids in tokenizer(texts, add_special_tokens=False, truncation=False, verbose=False).input_ids]


def prompt_chunks(
    tokenizer: Any,
    text: str,
    emphasis: str = "Original",
    comma_backtrack: int = DEFAULT_COMMA_BACKTRACK,
    find_embedding: EmbeddingFinder | None = None,
) -> tuple[list[PromptChunk], int]:
    """Chunks and token count for one (already scheduled) prompt text."""
    segments = weighted_segments(text, emphasis)
    return build_chunks(segments, tokenize_segments(tokenizer, segments), SpecialTokens.of(tokenizer),
                        comma_backtrack, find_embedding)


def token_limit(count: int) -> int:
    """The counter's limit: the next multiple of 75 (at least 75)."""
    return math.ceil(max(count, 1) / CHUNK_LENGTH) * CHUNK_LENGTH
