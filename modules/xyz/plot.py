"""The X/Y/Z plot script (A1111's, txt2img and img2img): one generation per cell of up to three axes of
values, put together in a grid with a legend.

Its arguments are A1111 v1.10's script_args, in that order (ARGS): X type, X values, X values as the
dropdown's list, the same for Y and Z, Draw legend, Include Sub Images, Include Sub Grids, Keep -1 for
seeds, Vary seeds for X, Y and Z, Grid margins (px), Use text inputs instead of dropdowns. An axis type is
a label of app.registry.xyz_axes (axes.py) or, from the API, its index in A1111's list for the tab.

check() builds the whole plan (plan.py): every value, every cell's request and the grid size are checked
before the job is queued. run() draws the cells (run.py) and answers with the grid first, then the
cells (result.py). The infotext of the grid names the axes as A1111 writes them (infotext.py); reading it
back selects this script with those axes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from modules.scripts.base import Script, ScriptArg

if TYPE_CHECKING:
    from modules.app import App
    from modules.generation.pipeline import GenerationResult
    from modules.generation.request import GenerationRequest
    from modules.jobs import Progress

TITLE = "X/Y/Z plot"
MAX_MARGIN = 500


def _axis_args(name: str, default: str) -> tuple[ScriptArg, ...]:
    return (ScriptArg(f"{name} type", "str", default, info="an axis type (A1111's label)"),
            ScriptArg(f"{name} values", "str", "", info="comma-separated values or ranges (1-5, 1-10 (+2), 1-2 [5])"),
            ScriptArg(f"{name} values (dropdown)", "str", "", info="a choice axis's values (the dropdown's list)"))


ARGS: tuple[ScriptArg, ...] = (
    *_axis_args("X", "Seed"), *_axis_args("Y", "Nothing"), *_axis_args("Z", "Nothing"),
    ScriptArg("Draw legend", "bool", True),
    ScriptArg("Include Sub Images", "bool", False),
    ScriptArg("Include Sub Grids", "bool", False),
    ScriptArg("Keep -1 for seeds", "bool", False),
    ScriptArg("Vary seeds for X", "bool", False),
    ScriptArg("Vary seeds for Y", "bool", False),
    ScriptArg("Vary seeds for Z", "bool", False),
    ScriptArg("Grid margins (px)", "int", 0, minimum=0, maximum=MAX_MARGIN, step=2),
    ScriptArg("Use text inputs instead of dropdowns", "bool", False),
)


class XyzPlot(Script):
    title = TITLE
    args = ARGS

    def prepare_args(self, app: App, kind: str, values: list[Any]) -> list[Any]:
        from modules.xyz.api_args import normalize_args

        return normalize_args(app, kind, values)

    def check(self, app: App, request: GenerationRequest, args: list[Any]) -> None:
        from modules.xyz.plan import XyzArgs, build_plan

        build_plan(app, request, XyzArgs.from_args(args))

    def run(self, app: App, request: GenerationRequest, args: list[Any], progress: Progress) -> GenerationResult:
        from modules.xyz.plan import XyzArgs, build_plan
        from modules.xyz.run import run_plan

        plan = build_plan(app, request, XyzArgs.from_args(args))  # a -1 seed is drawn here, once
        return run_plan(app, request, plan, progress)

    def build_controls(self, app: App, tab: str, elem_id: str) -> list[Any] | None:
        from modules.xyz.ui import build_xyz_controls

        return build_xyz_controls(app, tab, elem_id)

    def control_values(self, args: list[Any]) -> list[Any]:
        from modules.xyz.ui import control_values

        return control_values(args)

    def args_from_infotext(self, info: Mapping[str, str]) -> list[Any] | None:
        from modules.xyz.infotext import args_from_infotext

        return args_from_infotext(info)
