"""The "Prompts from file or textbox" script (A1111's): one generation per line of the list.

A line is a prompt, or `--key value` pairs (shell quoting): --prompt and --negative_prompt take every
word up to the next --key; --styles takes the style names that follow. Keys (A1111's): prompt,
negative_prompt, styles, seed, subseed, subseed_strength, seed_resize_from_w, seed_resize_from_h,
sampler_name (or sampler_index), steps, cfg_scale, width, height, batch_size, n_iter, tiling,
denoising_strength, sd_model (a checkpoint for that line: loaded before it, the first one put back after
the list), do_not_save_samples, do_not_save_grid, restore_faces (only false: there is no face restoration
here). Booleans are written true or false (1/0, yes/no too). outpath_samples, outpath_grids and
prompt_for_display are refused with the reason (the output folders are the Settings'; a request may not
write elsewhere). A line's prompt goes before the prompt in the UI ("Insert prompts at the" start) or
after it (end), joined by a space. Options (A1111's, in its script_args order): "Iterate seed every line"
(each line's seed follows the images of the line before), "Use same random seed for all lines" (a random
seed is drawn once), "Insert prompts at the", "List of prompt inputs"; in the UI, a text file uploaded to
"Upload prompt inputs" fills the list (read_prompt_file).
"""

from __future__ import annotations

import logging
import random
import shlex
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams, UserError
from modules.messages import msg
from modules.scripts.base import Script, ScriptArg, combine, generate_now

if TYPE_CHECKING:
    from modules.app import App
    from modules.generation.pipeline import GenerationResult
    from modules.generation.request import GenerationRequest
    from modules.jobs import Progress

log = logging.getLogger(__name__)
TITLE = "Prompts from file or textbox"
MAX_LINES = 1000
MAX_FILE_BYTES = 1_000_000  # an uploaded list of prompts
# line key -> (field, type): params fields, except REQUEST_FIELDS (the request's own); "bool" is true/false,
# "not" a true/false that is stored negated (do_not_save_samples -> save_images)
KEYS: dict[str, tuple[str, Any]] = {
    "sd_model": ("checkpoint", str), "prompt": ("prompt", str), "negative_prompt": ("negative_prompt", str),
    "styles": ("styles", list), "seed": ("seed", int), "subseed_strength": ("subseed_strength", float),
    "subseed": ("subseed", int), "seed_resize_from_h": ("seed_resize_from_h", int),
    "seed_resize_from_w": ("seed_resize_from_w", int), "sampler_index": ("sampler_name", str),
    "sampler_name": ("sampler_name", str), "batch_size": ("batch_size", int), "n_iter": ("batch_count", int),
    "steps": ("steps", int), "cfg_scale": ("cfg_scale", float), "width": ("width", int), "height": ("height", int),
    "restore_faces": ("restore_faces", "bool"), "tiling": ("tiling", "bool"),
    "denoising_strength": ("denoising_strength", float),
    "do_not_save_samples": ("save_images", "not"), "do_not_save_grid": ("save_grid", "not"),
}
REFUSED = ("outpath_samples", "outpath_grids", "prompt_for_display")  # A1111 keys that make no sense here
REQUEST_FIELDS = ("styles", "checkpoint", "save_images", "save_grid")
MANY_WORDS = ("prompt", "negative_prompt", "styles")
TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


@dataclass(frozen=True)
class Line:
    number: int  # 1-based, in the list as given
    values: dict[str, Any]  # field -> value (params fields, and REQUEST_FIELDS: "styles" is a list of names)


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
        if key in REFUSED:
            raise InvalidParams(msg(f"prompts_file_{key}", line=number, option=key))
        if key not in KEYS:
            raise InvalidParams(msg("prompts_file_bad_key", line=number, option=word[:60],
                                    keys=", ".join(KEYS)))
        field, kind = KEYS[key]
        taken: list[str] = []
        i += 1
        while i < len(words) and not (words[i].startswith("--") and words[i][2:] in (*KEYS, *REFUSED)) and \
                (key in MANY_WORDS or not taken):
            taken.append(words[i])
            i += 1
        if not taken:
            raise InvalidParams(msg("prompts_file_no_value", line=number, option=key))
        value = _value(key, kind, taken, number)
        if key == "restore_faces":
            if value:
                raise InvalidParams(msg("prompts_file_restore_faces", line=number, option=key))
            continue  # false: what happens anyway
        values[field] = value
    return values


def read_prompt_file(data: bytes) -> str:
    """The text of an uploaded list of prompts (UTF-8, a BOM or bad bytes tolerated, any line ends);
    UserError when it is over MAX_FILE_BYTES or has more than MAX_LINES lines."""
    if len(data) > MAX_FILE_BYTES:
        raise UserError(msg("prompts_file_upload_too_large", size=len(data), most=MAX_FILE_BYTES))
    text = data.decode("utf-8-sig", errors="replace")
    lines = [line.rstrip() for line in text.splitlines()]
    if sum(1 for line in lines if line.strip()) > MAX_LINES:
        raise UserError(msg("prompts_file_too_long", count=sum(1 for line in lines if line.strip()), most=MAX_LINES))
    return "\n".join(lines).strip("\n")


def _value(key: str, kind: Any, taken: list[str], number: int) -> Any:
    if kind is list:
        return taken
    if kind is str:
        return " ".join(taken)
    if kind in ("bool", "not"):
        word = taken[0].strip().lower()
        if word not in TRUE + FALSE:
            raise InvalidParams(msg("prompts_file_bad_value", line=number, option=key, value=taken[0][:60],
                                    kind="true or false"))
        return (word in TRUE) != (kind == "not")
    try:
        return kind(taken[0])
    except ValueError:
        raise InvalidParams(msg("prompts_file_bad_value", line=number, option=key, value=taken[0][:60],
                                kind="a whole number" if kind is int else "a number")) from None


class PromptsFromFile(Script):
    title = TITLE
    args = (
        ScriptArg("Iterate seed every line", "bool", False),
        ScriptArg("Use same random seed for all lines", "bool", False),
        ScriptArg("Insert prompts at the", "choice", "start", choices=("start", "end")),
        ScriptArg("List of prompt inputs", "str", "", lines=4,
                  info="one prompt per line, or --prompt \"...\" --steps 30 --seed 5 ... (see README, Scripts)"),
    )

    def build_controls(self, app: App, tab: str, elem_id: str) -> list[Any]:
        """A1111's controls (one per argument), and its "Upload prompt inputs" file under them: a text file
        dropped there fills "List of prompt inputs" (the file itself is not an argument)."""
        import gradio as gr

        from modules.ui.script_controls import build_control

        controls = [build_control(arg, f"{elem_id}_{i}") for i, arg in enumerate(self.args)]
        upload = gr.File(label="Upload prompt inputs", type="binary", file_types=[".txt"], elem_id=f"{elem_id}_file")

        def take(data: bytes | None) -> tuple[None, Any]:
            if not data:
                return None, gr.update()
            try:
                return None, read_prompt_file(data)
            except UserError as e:
                raise gr.Error(str(e)) from None

        upload.upload(take, inputs=upload, outputs=[upload, controls[3]], show_progress="hidden", queue=False,
                      api_visibility="private")
        return controls

    def check(self, app: App, request: GenerationRequest, args: list[Any]) -> None:
        from modules.generation.resolve import check

        for number, sub in self.requests(request, args, seed=0):
            try:
                check(app, sub)
            except UserError as e:  # a range, a sampler, an --sd_model that is not here
                raise InvalidParams(msg("prompts_file_line_error", line=number, error=str(e))) from None

    def run(self, app: App, request: GenerationRequest, args: list[Any], progress: Progress) -> GenerationResult:
        iterate, same_seed = bool(args[0]), bool(args[1])
        seed = request.params.seed
        if (iterate or same_seed) and seed == -1:
            seed = random.randint(0, 2**32 - 1)
        previous = app.models.current_info
        results = []
        try:
            for _number, sub in self.requests(request, args, seed, iterate):
                if progress.interrupted:
                    break
                if sub.checkpoint:  # --sd_model: this line's checkpoint, loaded in this job only
                    app.models.load(sub.checkpoint)
                results.append(generate_now(app, sub, progress).result)
                if results[-1].interrupted:
                    break
        finally:
            if previous is not None and app.models.current_info != previous:
                try:
                    app.models.load(previous.title)
                except Exception:  # noqa: BLE001 - the images are done; the line's model stays loaded
                    log.exception("could not put checkpoint %s back", previous.title)
        return combine(results, request.save_images)

    def requests(self, request: GenerationRequest, args: list[Any], seed: int,
                 iterate: bool = False) -> list[tuple[int, GenerationRequest]]:
        """(line number, the line's request) for each line; the seed as run() sets it."""
        at_start = args[2] != "end"
        base = request.params
        out = []
        for line in parse_lines(str(args[3] or "")):
            values = dict(line.values)
            own = {name: values.pop(name) for name in REQUEST_FIELDS if name in values}
            if "styles" in own:
                own["styles"] = tuple(own["styles"])
            for field in ("prompt", "negative_prompt"):
                mine, theirs = values.get(field), getattr(base, field)
                if mine and theirs:
                    values[field] = f"{mine} {theirs}" if at_start else f"{theirs} {mine}"
            values.setdefault("seed", seed)
            try:
                params = replace(base, **values)
            except TypeError:  # a field the task lacks (none today: both have denoising_strength)
                unknown = next(k for k in values if not hasattr(base, k))
                raise InvalidParams(msg("prompts_file_bad_key", line=line.number, option=f"--{unknown}",
                                        keys=", ".join(KEYS))) from None
            sized = {"width", "height"} & set(values)
            out.append((line.number, replace(
                request, params=params, explicit=request.explicit | set(values), **own,
                size_from_model=request.size_from_model and not sized)))
            if iterate:  # A1111: by the images of the UI's batch, whatever the line set
                seed = seed + base.batch_size * base.batch_count
        return out
