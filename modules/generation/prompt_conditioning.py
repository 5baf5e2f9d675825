"""From the prompts as typed to the per-step conditioning the denoising loop asks for.

Order (A1111, compatibility reference section 4): comments stripped (if enabled) → extra-network tags
cut out → AND split (positive prompt only) → each part scheduled ([from:to:when], [a|b]) → every
distinct scheduled text encoded once → at each step the text in force is looked up.

    plan = plan_prompts("a [cat:dog:0.5] AND snow:-0.4", "blurry", steps=20)
    schedule = conditioning_schedule(model, plan, batch_size=2)
    cond, uncond = schedule(step, total)   # the denoise() callback
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modules.extra_network_tags import NetworkTag, parse_extra_network_tags
from modules.generation.prompt_chunks import DEFAULT_COMMA_BACKTRACK, EmbeddingFinder, prompt_chunks, token_limit
from modules.prompt_parser import (
    get_learned_conditioning_prompt_schedules,
    split_subprompts,
    strip_comments,
    text_for_step,
)

if TYPE_CHECKING:
    from modules.generation.conditioning import ComposableConditioning, Conditioning
    from modules.model_manager.loaded_model import LoadedModel

Schedule = list[list[Any]]  # [[end_at_step, text], ...]


@dataclass(frozen=True)
class PromptPlan:
    """What the prompts mean, before any model is involved."""

    steps: int
    parts: list[tuple[Schedule, float]]  # one (schedule, weight) per AND subprompt
    negative: Schedule
    networks: list[NetworkTag] = field(default_factory=list)

    def texts(self) -> list[str]:
        """Every distinct text that will be encoded, in first-use order."""
        seen: dict[str, None] = {}
        for schedule, _ in self.parts:
            seen.update((text, None) for _, text in schedule)
        seen.update((text, None) for _, text in self.negative)
        return list(seen)

    def texts_at(self, step: int) -> tuple[list[tuple[str, float]], str]:
        """([(text, weight) per subprompt], negative text) in force at the 0-based sampling step."""
        return ([(text_for_step(schedule, step), weight) for schedule, weight in self.parts],
                text_for_step(self.negative, step))


def plan_prompts(prompt: str, negative_prompt: str, steps: int, comments: bool = True,
                 hires_steps: int | None = None) -> PromptPlan:
    """Parse both prompts. Tags are taken from the positive prompt only (A1111 leaves the negative as is).

    hires_steps: plan the hires fix's second pass of that many steps after a first pass of `steps`
    (A1111's rule: [a:b:N] counts from the start of the first pass, fractions are offset by 1)."""
    if comments:
        prompt, negative_prompt = strip_comments(prompt), strip_comments(negative_prompt)
    text, networks = parse_extra_network_tags(prompt)
    subprompts = split_subprompts(text)
    schedules = get_learned_conditioning_prompt_schedules([sub for sub, _ in subprompts], steps, hires_steps)
    parts = [(schedule, weight) for schedule, (_, weight) in zip(schedules, subprompts, strict=True)]
    negative = get_learned_conditioning_prompt_schedules([negative_prompt], steps, hires_steps)[0]
    return PromptPlan(steps=hires_steps or steps, parts=parts, negative=negative, networks=networks)


def _repeat_last(cond: Conditioning, tokens: int) -> Conditioning:
    """Pad to `tokens` by repeating the last vector (A1111's rule for AND parts of different lengths)."""
    import torch

    from modules.generation.conditioning import Conditioning

    missing = tokens - cond.tokens
    if missing <= 0:
        return cond
    tail = cond.embeds[:, -1:].expand(-1, missing, -1)
    return Conditioning(embeds=torch.cat([cond.embeds, tail], dim=1), pooled=cond.pooled)


def _batched(cond: Conditioning, batch_size: int) -> Conditioning:
    from modules.generation.conditioning import Conditioning

    if batch_size == 1:
        return cond
    pooled = cond.pooled.expand(batch_size, -1) if cond.pooled is not None else None
    return Conditioning(embeds=cond.embeds.expand(batch_size, -1, -1), pooled=pooled)


CondSchedule = Callable[[int, int], "tuple[Conditioning | ComposableConditioning, Conditioning]"]


def conditioning_schedule(
    model: LoadedModel,
    plan: PromptPlan,
    batch_size: int = 1,
    clip_skip: int = 1,
    emphasis: str = "Original",
    comma_backtrack: int = DEFAULT_COMMA_BACKTRACK,
    find_embedding: EmbeddingFinder | Sequence[EmbeddingFinder | None] | None = None,
    encoded: dict[str, Conditioning] | None = None,
) -> CondSchedule:
    """The denoise() callback: (step, total) → (cond, uncond), every distinct text encoded once, now.

    `step` counts the loop's model evaluations, as A1111's does (2nd-order samplers switch earlier).
    cond is a Conditioning for a plain prompt, a ComposableConditioning when AND or a :weight is used.
    `encoded` (text → Conditioning) may be passed to share encodings between calls.
    """
    from modules.generation.conditioning import ChunkCache, ComposableConditioning, encode_texts

    cache = encoded if encoded is not None else {}
    chunk_cache: ChunkCache = {}  # scheduled texts often share most of their chunks
    positive = {text for schedule, _ in plan.parts for _, text in schedule}
    for text in plan.texts():
        if text not in cache:
            cache[text] = encode_texts(model, [text], clip_skip, emphasis, comma_backtrack, find_embedding,
                                       field="prompt" if text in positive else "negative prompt",
                                       chunk_cache=chunk_cache)
    simple = len(plan.parts) == 1 and plan.parts[0][1] == 1.0

    def at(step: int, _total: int) -> tuple[Conditioning | ComposableConditioning, Conditioning]:
        parts, negative = plan.texts_at(step)
        uncond = _batched(cache[negative], batch_size)
        if simple:
            return _batched(cache[parts[0][0]], batch_size), uncond
        tokens = max(cache[text].tokens for text, _ in parts)
        return ComposableConditioning([(_batched(_repeat_last(cache[text], tokens), batch_size), weight)
                                       for text, weight in parts]), uncond

    return at


def count_tokens(
    tokenizer: Any,
    text: str,
    steps: int = 20,
    negative: bool = False,
    emphasis: str = "Original",
    comments: bool = True,
) -> tuple[int, int]:
    """(tokens used, limit) for a prompt box, as A1111's counter: the longest scheduled text counts."""
    if comments:
        text = strip_comments(text)
    text, _ = parse_extra_network_tags(text)
    subprompts = [text] if negative else [sub for sub, _ in split_subprompts(text)]
    texts = {entry[1] for schedule in get_learned_conditioning_prompt_schedules(subprompts, steps)
             for entry in schedule}
    used = max(prompt_chunks(tokenizer, sub, emphasis)[1] for sub in texts)
    return used, token_limit(used)


def uses_emphasis(*texts: str) -> bool:
    """A1111 writes 'Emphasis' into the infotext only when a prompt has '(' or '['."""
    return any("(" in text or "[" in text for text in texts)

