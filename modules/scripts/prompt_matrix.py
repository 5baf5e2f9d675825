"""The "Prompt matrix" script (A1111's): every combination of the parts of a prompt written as a|b|c.

The first part is always in the prompt; each later part is on or off, so n parts give 2^(n-1) pictures
(at most MAX_PARTS parts). Picture c has part i+1 on when bit i of c is set; its parts are joined with
", " or " " ("Select joining char"), the variable ones after the first part or before it ("Put variable
parts at start of prompt"). "Select prompt" picks whether the positive or the negative prompt is split.
Every picture has the request's seed (a random one drawn once for -1), or seed + c with "Use different
seed for each picture". Each picture is one image (batch count and size are not used: A1111 fills its
batches with different prompts, which one generation here cannot do).

The result is the grid first, then the pictures. The grid has the first half of the variable parts
across the top (one column per combination of them) and the others down the left; each legend lists its
parts, the ones that are off grey and struck through (drawn with the X/Y/Z grid code, "Grid margins (px)"
between the cells). It is saved as prompt_matrix-NNNN-<seed> in the grids folder when grids are saved.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams
from modules.messages import msg
from modules.scripts.base import Script, ScriptArg, generate_now

if TYPE_CHECKING:
    from PIL import Image

    from modules.app import App
    from modules.generation.pipeline import GenerationResult
    from modules.generation.request import GenerationRequest
    from modules.jobs import Progress
    from modules.xyz.grid_image import GridLegend

TITLE = "Prompt matrix"
MAX_PARTS = 11  # 1024 pictures
PREFIX = "prompt_matrix-"
JOINERS = {"comma": ", ", "space": " "}


@dataclass(frozen=True)
class Matrix:
    """The parts of the split prompt and the prompt of every combination (index c: bit i = part i+1 on)."""

    first: str
    variable: tuple[str, ...]
    prompts: tuple[str, ...]

    @property
    def across(self) -> tuple[str, ...]:
        """The parts whose combinations are the columns (the first half, A1111's layout)."""
        return self.variable[: math.ceil(len(self.variable) / 2)]

    @property
    def down(self) -> tuple[str, ...]:
        return self.variable[len(self.across):]

    @property
    def columns(self) -> int:
        return 2 ** len(self.across)

    @property
    def rows(self) -> int:
        return 2 ** len(self.down)

    def legend(self) -> GridLegend:
        from modules.xyz.grid_image import GridLegend, Label

        def entries(parts: tuple[str, ...]) -> list[tuple[Label, ...]]:
            return [tuple(Label(part, active=bool(c >> i & 1)) for i, part in enumerate(parts))
                    for c in range(2 ** len(parts))]

        return GridLegend(entries(self.across), entries(self.down), [""])


def split_matrix(prompt: str, at_start: bool = False, joiner: str = "comma") -> Matrix:
    """The Matrix of prompt (see the module doc); InvalidParams when it has more than MAX_PARTS parts."""
    parts = [part.strip().strip(",").strip() for part in prompt.split("|")]
    if len(parts) > MAX_PARTS:
        raise InvalidParams(msg("prompt_matrix_too_many_parts", count=len(parts), most=MAX_PARTS,
                                pictures=2 ** (len(parts) - 1)))
    first, variable = parts[0], tuple(parts[1:])
    prompts = []
    for c in range(2 ** len(variable)):
        chosen = [part for i, part in enumerate(variable) if c >> i & 1]
        ordered = [*chosen, first] if at_start else [first, *chosen]
        prompts.append(JOINERS.get(joiner, ", ").join(part for part in ordered if part))
    return Matrix(first, variable, tuple(prompts))


class PromptMatrix(Script):
    title = TITLE
    args = (
        ScriptArg("Put variable parts at start of prompt", "bool", False),
        ScriptArg("Use different seed for each picture", "bool", False),
        ScriptArg("Select prompt", "choice", "positive", choices=("positive", "negative")),
        ScriptArg("Select joining char", "choice", "comma", choices=("comma", "space")),
        ScriptArg("Grid margins (px)", "int", 0, minimum=0, maximum=500, step=2),
    )

    def matrix(self, request: GenerationRequest, args: list[Any]) -> Matrix:
        field = "negative_prompt" if args[2] == "negative" else "prompt"
        return split_matrix(getattr(request.params, field), bool(args[0]), str(args[3]))

    def requests(self, request: GenerationRequest, args: list[Any], seed: int) -> list[GenerationRequest]:
        """The request of every picture, in combination order."""
        field = "negative_prompt" if args[2] == "negative" else "prompt"
        different = bool(args[1])
        out = []
        for c, prompt in enumerate(self.matrix(request, args).prompts):
            params = replace(request.params, **{field: prompt}, seed=seed + c if different and seed >= 0 else seed,
                             batch_size=1, batch_count=1)
            out.append(replace(request, params=params, save_grid=False,
                               explicit=request.explicit | {field, "seed", "batch_size", "batch_count"}))
        return out

    def check(self, app: App, request: GenerationRequest, args: list[Any]) -> None:
        """The longest prompt (every part on) passes the request's checks; the grid is not too large."""
        from modules.generation.resolve import check
        from modules.xyz.grid_image import check_grid_size

        matrix = self.matrix(request, args)
        check(app, self.requests(request, args, seed=0)[-1])
        p = request.params
        check_grid_size(p.width, p.height, matrix.columns, matrix.rows, 1, matrix.legend(), int(args[4]))

    def run(self, app: App, request: GenerationRequest, args: list[Any], progress: Progress) -> GenerationResult:
        from modules.generation.pipeline import GenerationResult
        from modules.xyz.grid_image import draw_xyz_grid

        started = datetime.now()
        seed = request.params.seed if request.params.seed >= 0 else random.randint(0, 2**32 - 1)
        matrix = self.matrix(request, args)
        drawn: list[GenerationResult] = []
        for sub in self.requests(request, args, seed):
            if progress.interrupted:
                break
            drawn.append(generate_now(app, sub, progress).result)
            if drawn[-1].interrupted:
                break
        cells: list[Image.Image | None] = [r.images[0] if r.images else None for r in drawn]
        cells += [None] * (len(matrix.prompts) - len(cells))
        out = GenerationResult(scheduler=drawn[0].scheduler if drawn else "")
        for result in drawn:
            out.images += result.images
            out.paths += result.paths
            out.seeds += result.seeds
            out.infotexts += result.infotexts
            out.warnings += [w for w in result.warnings if w not in out.warnings]
        out.interrupted = len(out.images) < len(matrix.prompts)
        out.message = _message(out, len(out.images), len(matrix.prompts), request.save_images)
        if any(cells):
            background = str(app.options.get("grid_background_color", "#ffffff") or "#ffffff")
            grid, _subs = draw_xyz_grid(cells, matrix.columns, matrix.rows, 1, matrix.legend(), int(args[4]),
                                        background)
            infotext = out.infotexts[0]
            path = _save(app, request, grid, infotext, out.seeds[0], started) if request.save_grid else None
            out.images.insert(0, grid)
            out.infotexts.insert(0, infotext)
            out.seeds.insert(0, out.seeds[0])
            if path is not None:
                out.paths.insert(0, path)
        return out


def _save(app: App, request: GenerationRequest, grid: Image.Image, infotext: str, seed: int,
          started: datetime) -> Any:
    """Save the grid as prompt_matrix-NNNN-<seed> in the grids folder (None when grids are not saved)."""
    from modules.generation.outputs import GRID_DIGITS, next_number, save_image
    from modules.generation.save_options import SaveOptions, name_fields

    saving = SaveOptions.for_run(app, request.kind, request.options)
    if not saving.grid_save:
        return None
    info = app.models.current_info
    fields = name_fields(request.params, seed, info.stem if info else "", info.shorthash if info else "", 0, started)
    folder = saving.grid_folder(fields)
    stem = f"{PREFIX}{next_number(folder, PREFIX):0{GRID_DIGITS}d}-{seed}"
    return save_image(grid, folder, seed, infotext, stem=stem, fmt=saving.grid_format, add_number=False)


def _message(result: GenerationResult, done: int, total: int, save_images: bool) -> str:
    """The result message: how many pictures (of how many), where they went, any warnings."""
    folder = next((p.parent for p in result.paths), None)
    if done < total:
        text = msg("script_interrupted", done=done)
    elif save_images and folder is not None:
        text = msg("saved", count=done, folder=folder)
    else:
        text = msg("generated_not_saved", count=done)
    for warning in result.warnings:
        text += " " + warning
    return text
