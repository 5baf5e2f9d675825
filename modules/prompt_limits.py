"""Bounds on what one prompt may ask of the text encoder and the UNet, checked before a job is queued.

Every 75-token chunk adds 77 tokens that each UNet step attends to, every AND part adds a UNet
evaluation per step, and the bracket parsers' work grows with the nesting depth; within the
32,768-character limit a prompt could otherwise hold the queue for minutes ("a BREAK " * 4000 is 4,001
chunks) or come out as NaN (10,000 nested '(' weigh 1.1^10000 = inf). The limits are far above any
real prompt. Pure code (no tokenizer): the chunk count here is a floor (each word is at least one
token); the exact count is checked again when the prompt is tokenized (conditioning.encode_texts).

    prompt_problem("a BREAK " * 4000, "prompt", steps=20) -> "The prompt splits into 4,001 chunks ..."
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from modules.generation.prompt_chunks import CHUNK_LENGTH
from modules.messages import msg

MAX_PROMPT_CHUNKS = 64  # 75-token chunks per scheduled text (4,800 tokens; BREAK starts a new chunk)
MAX_PROMPT_DEPTH = 32  # nested ( ) / [ ] (1.1^32 = 21x)
MAX_PROMPT_SCHEDULES = 100  # [from:to:when] edits plus [a|b] alternations per prompt, nested ones included
MAX_PROMPT_PARTS = 32  # AND parts of the positive prompt (each is one more UNet evaluation per step)
MAX_PROMPT_WEIGHT = 1000.0  # |weight| of a token after nested brackets multiply, and of an AND part

_WORD = re.compile(r"[^\W_]+")  # letters/digits: CLIP makes at least one token of each such run


def chunk_floor(segments: Sequence[tuple[str, float]]) -> int:
    """At least how many 75-token chunks build_chunks makes of these weighted segments.

    Each run of letters and digits is one token or more; a BREAK closes the chunk (even an empty one).
    """
    chunks = words = 0
    for text, weight in segments:
        if text == "BREAK" and weight == -1:
            chunks += max(1, math.ceil(words / CHUNK_LENGTH))
            words = 0
        else:
            words += len(_WORD.findall(text))
    return max(1, chunks + math.ceil(words / CHUNK_LENGTH))


def chunk_problem(count: int, field: str, exact: bool = True) -> str | None:
    """The message for a text of `count` chunks (exact, or a floor), or None when within the limit."""
    if count <= MAX_PROMPT_CHUNKS:
        return None
    return msg("prompt_too_many_chunks", field=field, count=f"{count:,}" if exact else f"at least {count:,}",
               maximum=MAX_PROMPT_CHUNKS)


def _weight_problem(weights: Sequence[float], field: str) -> str | None:
    for weight in weights:
        if not math.isfinite(weight) or abs(weight) > MAX_PROMPT_WEIGHT:
            return msg("prompt_weight_too_large", field=field, value=f"{weight:.4g}", maximum=f"{MAX_PROMPT_WEIGHT:,g}")
    return None


def prompt_problem(text: str, field: str, steps: int, emphasis: str = "Original", negative: bool = False) -> str | None:
    """What makes this prompt (as typed; comments and tags are taken out here as generation does) too
    costly or unusable, as a message naming the limit and what to change; None when it is fine."""
    from modules.extra_network_tags import parse_extra_network_tags
    from modules.generation.prompt_chunks import weighted_segments
    from modules.prompt_parser import emphasis_depth, split_subprompts, strip_comments, texts_at_steps
    from modules.prompt_schedule import count_schedules, parse_schedule_tree

    text = strip_comments(text)
    if negative:
        parts = [(text, 1.0)]
    else:
        parts = split_subprompts(parse_extra_network_tags(text)[0])
        if len(parts) > MAX_PROMPT_PARTS:
            return msg("prompt_too_many_parts", field=field, count=len(parts), maximum=MAX_PROMPT_PARTS)
        problem = _weight_problem([weight for _, weight in parts], field)
        if problem:
            return problem
    depth = max(emphasis_depth(part) for part, _ in parts)
    if depth > MAX_PROMPT_DEPTH:  # checked first: the parsers below take time (and stack) with the depth
        return msg("prompt_too_deep", field=field, depth=depth, maximum=MAX_PROMPT_DEPTH)
    trees = [parse_schedule_tree(part) for part, _ in parts]
    schedules = sum(count_schedules(tree) for tree in trees if tree is not None)
    if schedules > MAX_PROMPT_SCHEDULES:
        return msg("prompt_too_many_schedules", field=field, count=schedules, maximum=MAX_PROMPT_SCHEDULES)
    for part, _ in parts:
        for scheduled in dict.fromkeys(texts_at_steps(part, steps, [1, steps])):
            segments = weighted_segments(scheduled, emphasis)
            problem = chunk_problem(chunk_floor(segments), field, exact=False)
            if problem is None and emphasis in ("Original", "No norm"):
                problem = _weight_problem([weight for seg, weight in segments if weight != -1 or seg != "BREAK"], field)
            if problem:
                return problem
    return None
