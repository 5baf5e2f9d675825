"""The A1111 prompt language as pure functions, with A1111's entry points and result shapes.

    parse_prompt_attention("a (b:1.3) BREAK c")      -> [["a ", 1.0], ["b", 1.3], ["BREAK", -1], ["c", 1.0]]
    get_learned_conditioning_prompt_schedules(["a [b:c:0.5]"], 10) -> [[[5, "a b"], [10, "a c"]]]
    get_multicond_prompt_list(["a cat:1.2 AND a dog"]) -> ([[(0, 1.2), (1, 1.0)]], ["a cat", " a dog"], {...})

Scripts and extensions written against A1111's modules/prompt_parser.py can call these unchanged.
Hand-written (no parser generator). Where A1111's own result depends on the process's hash seed
(prompts whose brackets can be read as either an edit or as plain characters, such as "[a:b:3]]"),
this parser always reads the well-formed edit or alternation starting at the earliest bracket.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from modules.prompt_schedule import Alternate, Emphasis, Node, Scheduled, parse_schedule_tree

ROUND_MULTIPLIER = 1.1
SQUARE_MULTIPLIER = 1 / 1.1

_BREAK_SPLIT = re.compile(r"\s*\bBREAK\b\s*", re.S)
_WEIGHT_CLOSE = re.compile(r":\s*([+-]?[.\d]+)\s*\)")  # ":1.3)" closing a round bracket with a weight
_PLAIN_RUN = re.compile(r"[^\\()\[\]:]+")
_AND = re.compile(r"\bAND\b")
_SUBPROMPT_WEIGHT = re.compile(r"^(.*?)(?:\s*:\s*([-+]?(?:\d+\.?|\d*\.\d+)))?\s*$", re.S)
_ESCAPABLE = "()[]\\"


# --------------------------------------------------------------------------------------------
# attention / emphasis


def _attention_tokens(text: str) -> list[tuple[str, str | None]]:
    """Lex text into (token, weight-or-None) in A1111's token classes."""
    tokens: list[tuple[str, str | None]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            size = 2 if i + 1 < n and text[i + 1] in _ESCAPABLE else 1
            tokens.append((text[i:i + size], None))
            i += size
        elif char in "()[]":
            tokens.append((char, None))
            i += 1
        elif char == ":":
            weight = _WEIGHT_CLOSE.match(text, i)
            if weight is not None and _is_float(weight.group(1)):
                tokens.append((weight.group(0), weight.group(1)))
                i = weight.end()
            else:
                tokens.append((":", None))
                i += 1
        else:
            run = _PLAIN_RUN.match(text, i)
            assert run is not None
            tokens.append((run.group(0), None))
            i = run.end()
    return tokens


def _is_float(value: str) -> bool:
    """A weight such as "1.2.3" or "." makes A1111 raise; here its ':' is read as plain text."""
    try:
        float(value)
    except ValueError:
        return False
    return True


def emphasis_depth(text: str) -> int:
    """How deep the emphasis brackets nest, counted as parse_prompt_attention pairs them.

    Unclosed brackets count (they reach to the end); a closer with no opener of its kind is text.
    Linear in the text, so it can be checked before the parsers, whose work grows with the depth.
    """
    round_open = square_open = deepest = 0
    for token, weight in _attention_tokens(text):
        if token == "(":
            round_open += 1
        elif token == "[":
            square_open += 1
        elif (weight is not None or token == ")") and round_open:
            round_open -= 1
        elif token == "]" and square_open:
            square_open -= 1
        deepest = max(deepest, round_open + square_open)
    return deepest


def parse_prompt_attention(text: str) -> list[list[Any]]:
    """[[text, weight], ...] for one prompt: emphasis brackets applied, equal neighbours merged.

    (x) ×1.1, [x] ÷1.1, (x:1.3) ×1.3, nested ones multiply; unclosed brackets reach to the end; stray
    closers, ':' and lone '\\' are text ('\\' alone is dropped, as in A1111); '\\(' '\\)' '\\[' '\\]' '\\\\'
    are escapes. BREAK (upper case, a whole word) becomes ["BREAK", -1] — inside brackets its weight
    is multiplied too, so only a top-level BREAK starts a new chunk (as in A1111).
    """
    runs: list[list[Any]] = []
    round_open: list[int] = []
    square_open: list[int] = []

    def multiply(start: int, factor: float) -> None:
        for run in runs[start:]:
            run[1] *= factor

    def add_text(chunk: str) -> None:
        for index, part in enumerate(_BREAK_SPLIT.split(chunk)):
            if index:
                runs.append(["BREAK", -1])
            runs.append([part, 1.0])

    for token, weight in _attention_tokens(text):
        if token.startswith("\\"):
            runs.append([token[1:], 1.0])
        elif token == "(":
            round_open.append(len(runs))
        elif token == "[":
            square_open.append(len(runs))
        elif weight is not None and round_open:
            multiply(round_open.pop(), float(weight))
        elif token == ")" and round_open:
            multiply(round_open.pop(), ROUND_MULTIPLIER)
        elif token == "]" and square_open:
            multiply(square_open.pop(), SQUARE_MULTIPLIER)
        else:
            add_text(token)

    for start in round_open:
        multiply(start, ROUND_MULTIPLIER)
    for start in square_open:
        multiply(start, SQUARE_MULTIPLIER)
    if not runs:
        return [["", 1.0]]
    merged: list[list[Any]] = [runs[0]]
    for run in runs[1:]:
        if run[1] == merged[-1][1]:
            merged[-1][0] += run[0]
        else:
            merged.append(run)
    return merged


# --------------------------------------------------------------------------------------------
# prompt editing and alternation


@dataclass(frozen=True)
class _Timeline:
    steps: int
    int_offset: float
    fraction_offset: float
    old_rules: bool

    def when(self, number: str) -> int:
        """A [from:to:when] number as the last step (1-based) that still uses `from`."""
        value = float(number)
        if self.old_rules:
            value = value * self.steps if value < 1 else value
        elif "." in number:
            value = (value - self.fraction_offset) * self.steps
        else:
            value = value - self.int_offset
        if math.isnan(value):
            return 0
        if math.isinf(value):
            return self.steps if value > 0 else 0
        return min(self.steps, int(value))


def _switch_steps(nodes: list[Node], timeline: _Timeline, found: set[int]) -> None:
    for node in nodes:
        if isinstance(node, Scheduled):
            step = timeline.when(node.when)
            if step >= 1:
                found.add(step)
            _switch_steps(node.before or [], timeline, found)
            _switch_steps(node.after, timeline, found)
        elif isinstance(node, Alternate):
            found.update(range(1, timeline.steps + 1))
            for option in node.options:
                _switch_steps(option, timeline, found)
        elif isinstance(node, Emphasis):
            for part in node.parts:
                _switch_steps(part, timeline, found)


def _text_at(nodes: list[Node], step: int, timeline: _Timeline) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Scheduled):
            chosen = (node.before or []) if step <= timeline.when(node.when) else node.after
            out.append(_text_at(chosen, step, timeline))
        elif isinstance(node, Alternate):
            out.append(_text_at(node.options[(step - 1) % len(node.options)], step, timeline))
        else:
            out.append(node.open)
            out.append(":".join(_text_at(part, step, timeline) for part in node.parts))
            out.append(node.close)
    return "".join(out)


def texts_at_steps(prompt: str, steps: int, at: list[int]) -> list[str]:
    """The prompt's text at each of the given 1-based steps (as get_learned_conditioning_prompt_schedules
    would give it), without building the whole schedule."""
    tree = parse_schedule_tree(prompt)
    if tree is None:
        return [prompt for _ in at]
    timeline = _Timeline(steps, 0, 0.0, False)
    return [_text_at(tree, step, timeline) for step in at]


def prompt_schedule(prompt: str, timeline: _Timeline) -> list[list[Any]]:
    """[[end_at_step, text], ...] for one prompt (a prompt that does not parse is used as is)."""
    tree = parse_schedule_tree(prompt)
    if tree is None:
        return [[timeline.steps, prompt]]
    found = {timeline.steps}
    _switch_steps(tree, timeline, found)
    return [[step, _text_at(tree, step, timeline)] for step in sorted(found)]


def get_learned_conditioning_prompt_schedules(
    prompts: list[str], steps: int, hires_steps: int | None = None, use_old_scheduling: bool = False
) -> list[list[list[Any]]]:
    """For each prompt, [[end_at_step, text], ...]: text is used for every step <= end_at_step.

    `when` in [from:to:when]: a number with '.' is a fraction of the steps, otherwise a step number
    (use_old_scheduling: below 1 a fraction, else a step). With hires_steps the schedule is for the
    hires pass: step numbers count from the start of the first pass and fractions are offset by 1.
    """
    if hires_steps is None or use_old_scheduling:
        timeline = _Timeline(steps, 0, 0.0, use_old_scheduling)
    else:
        timeline = _Timeline(hires_steps, steps, 1.0, False)
    cache: dict[str, list[list[Any]]] = {}
    for prompt in prompts:
        if prompt not in cache:
            cache[prompt] = prompt_schedule(prompt, timeline)
    return [cache[prompt] for prompt in prompts]


def text_for_step(schedule: list[list[Any]], step: int) -> str:
    """The text of a schedule in force at the 0-based sampling step (A1111: first end_at_step >= step)."""
    for end_at_step, text in schedule:
        if step <= end_at_step:
            return text
    return schedule[-1][1]


# --------------------------------------------------------------------------------------------
# composable diffusion (AND) and comments


def split_subprompts(prompt: str) -> list[tuple[str, float]]:
    """A prompt split on AND into (text, weight); 'text :1.2' gives weight 1.2 (default 1.0)."""
    parts: list[tuple[str, float]] = []
    for subprompt in _AND.split(prompt):
        match = _SUBPROMPT_WEIGHT.match(subprompt)
        if match is None:  # cannot happen: the pattern matches any string
            parts.append((subprompt, 1.0))
            continue
        text, weight = match.groups()
        parts.append((text, float(weight) if weight is not None else 1.0))
    return parts


def get_multicond_prompt_list(
    prompts: list[str],
) -> tuple[list[list[tuple[int, float]]], list[str], dict[str, int]]:
    """(per prompt [(index, weight), ...], the distinct subprompt texts, text -> index), as A1111."""
    indexes: list[list[tuple[int, float]]] = []
    flat: list[str] = []
    by_text: dict[str, int] = {}
    for prompt in prompts:
        entry: list[tuple[int, float]] = []
        for text, weight in split_subprompts(prompt):
            if text not in by_text:
                by_text[text] = len(flat)
                flat.append(text)
            entry.append((by_text[text], weight))
        indexes.append(entry)
    return indexes, flat, by_text


_WHOLE_LINE_COMMENT = re.compile(r"(^|\n)#[^\n]*(\n|$)")
_TRAILING_COMMENT = re.compile(r"#[^\n]*(\n|$)")


def strip_comments(text: str) -> str:
    """Remove '#' comments: a line starting with '#' goes with its newline, '# ...' ends a line."""
    text = _WHOLE_LINE_COMMENT.sub("\n", text)
    return _TRAILING_COMMENT.sub("\n", text)
