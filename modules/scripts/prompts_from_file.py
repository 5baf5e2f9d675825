"""The "Prompts from file or textbox" script (A1111's): one generation per line of the list.

A line is a prompt, or `--key value` pairs (shell quoting): --prompt and --negative_prompt take every
word up to the next --key; --styles takes the style names that follow. Keys: prompt, negative_prompt,
seed, steps, cfg_scale, sampler_name (or sampler_index), width, height, batch_size, n_iter, styles.
A line's prompt goes before the prompt in the UI ("Insert prompts at the" start) or after it (end),
joined by a space. Options (A1111's, in its script_args order): "Iterate seed every line" (each line's
seed follows the images of the line before), "Use same random seed for all lines" (a random seed is
drawn once), "Insert prompts at the", "List of prompt inputs".
"""

from __future__ import annotations

import random
import shlex
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams
from modules.messages import msg
from modules.scripts.base import Script, ScriptArg, combine, generate_now

if TYPE_CHECKING:
    from modules.app import App
    from modules.generation.pipeline import GenerationResult
    from modules.generation.request import GenerationRequest
    from modules.jobs import Progress

TITLE = "Prompts from file or textbox"
MAX_LINES = 1000
# line key -> (params field, type); "styles" is the request's, the prompts are joined to the UI's
KEYS: dict[str, tuple[str, type]] = {
    "prompt": ("prompt", str), "negative_prompt": ("negative_prompt", str), "seed": ("seed", int),
    "steps": ("steps", int), "cfg_scale": ("cfg_scale", float), "sampler_name": ("sampler_name", str),
    "sampler_index": ("sampler_name", str), "width": ("width", int), "height": ("height", int),
    "batch_size": ("batch_size", int), "n_iter": ("batch_count", int), "styles": ("styles", list),
}
MANY_WORDS = ("prompt", "negative_prompt", "styles")


@dataclass(frozen=True)
class Line:
    number: int  # 1-based, in the list as given
    values: dict[str, Any]  # params field -> value ("styles": list of names)


def parse_lines(text: str) -> list[Line]:
    """The non-empty lines of text as Lines; InvalidParams naming the line and what is wrong."""
    lines = [(n, raw.strip()) for n, raw in enumerate(text.splitlines(), 1) if raw.strip()]
    if not lines:
        raise InvalidParams(msg("prompts_file_empty"))
    if len(lines) > MAX_LINES:
        raise InvalidParams(msg("prompts_file_too_long", count=len(lines), most=MAX_LINES))
    return [Line(n, parse_line(raw, n) if raw.startswith("--") or " --" in raw else {"prompt": raw})
            for n, raw in lines]


def parse_line(line: str, number: int = 1) -> dict[str, Any]:
    try:
        words = shlex.split(line)
    except ValueError as e:
        raise InvalidParams(msg("prompts_file_bad_line", line=number, error=str(e))) from None
    values: dict[str, Any] = {}
    i = 0
    while i < len(words):
        word = words[i]
        key = word[2:] if word.startswith("--") else None
        if key not in KEYS:
            raise InvalidParams(msg("prompts_file_bad_key", line=number, option=word[:60], keys=", ".join(KEYS)))
        field, kind = KEYS[key]
        taken: list[str] = []
        i += 1
        while i < len(words) and not (words[i].startswith("--") and words[i][2:] in KEYS) and \
                (key in MANY_WORDS or not taken):
            taken.append(words[i])
            i += 1
        if not taken:
            raise InvalidParams(msg("prompts_file_no_value", line=number, option=key))
        try:
            value: Any = taken if kind is list else " ".join(taken) if kind is str else kind(taken[0])
        except ValueError:
            raise InvalidParams(msg("prompts_file_bad_value", line=number, option=key, value=taken[0][:60],
                                    kind="a whole number" if kind is int else "a number")) from None
        values[field] = value
    return values


class PromptsFromFile(Script):
    title = TITLE
    args = (
        ScriptArg("Iterate seed every line", "bool", False),
        ScriptArg("Use same random seed for all lines", "bool", False),
        ScriptArg("Insert prompts at the", "choice", "start", choices=("start", "end")),
        ScriptArg("List of prompt inputs", "str", "", lines=4,
                  info="one prompt per line, or --prompt \"...\" --steps 30 --seed 5 ... (see README, Scripts)"),
    )

    def check(self, app: App, request: GenerationRequest, args: list[Any]) -> None:
        from modules.generation.resolve import check

        for number, sub in self.requests(request, args, seed=0):
            try:
                check(app, sub)
            except InvalidParams as e:
                raise InvalidParams(msg("prompts_file_line_error", line=number, error=str(e))) from None

    def run(self, app: App, request: GenerationRequest, args: list[Any], progress: Progress) -> GenerationResult:
        iterate, same_seed = bool(args[0]), bool(args[1])
        seed = request.params.seed
        if (iterate or same_seed) and seed == -1:
            seed = random.randint(0, 2**32 - 1)
        results = []
        for _number, sub in self.requests(request, args, seed, iterate):
            if progress.interrupted:
                break
            results.append(generate_now(app, sub, progress).result)
            if results[-1].interrupted:
                break
        return combine(results, request.save_images)

    def requests(self, request: GenerationRequest, args: list[Any], seed: int,
                 iterate: bool = False) -> list[tuple[int, GenerationRequest]]:
        """(line number, the line's request) for each line; the seed as run() sets it."""
        at_start = args[2] != "end"
        base = request.params
        out = []
        for line in parse_lines(str(args[3] or "")):
            values = dict(line.values)
            styles = values.pop("styles", None)
            for field in ("prompt", "negative_prompt"):
                mine, theirs = values.get(field), getattr(base, field)
                if mine and theirs:
                    values[field] = f"{mine} {theirs}" if at_start else f"{theirs} {mine}"
            values.setdefault("seed", seed)
            params = replace(base, **values)
            sized = {"width", "height"} & set(values)
            out.append((line.number, replace(
                request, params=params, explicit=request.explicit | set(values),
                styles=tuple(styles) if styles is not None else request.styles,
                size_from_model=request.size_from_model and not sized)))
            if iterate:  # A1111: by the images of the UI's batch, whatever the line set
                seed = seed + base.batch_size * base.batch_count
        return out
