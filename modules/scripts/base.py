"""What a script is: a title, the tabs it shows in, typed arguments, and what it does with them.

    class MyScript(Script):
        title = "My script"
        tabs = ("txt2img",)
        args = (ScriptArg("Times", "int", 2, minimum=1, maximum=10),)

        def run(self, app, request, args, progress):          # a selectable script: it draws itself
            return combine([generate_now(app, request, progress).result for _ in range(args[0])],
                           request.save_images)

    ext.registry.scripts.register(MyScript.title, MyScript())     # or app.registry.scripts for core ones

A selectable script (is_alwayson False) is picked in the Script dropdown (API: script_name) and runs the
whole generation: run(app, request, args, progress) gets the request without itself selected and draws
with generate_now() as often as it likes (in the same job). An always-on script (is_alwayson True) shows
its controls in an accordion and acts on every generation through hooks(args): the Hooks it returns
(modules/generation/hooks.py) join the request's; None leaves the generation alone (e.g. "Enabled" off).
args lists the script's arguments in A1111's positional order: the UI builds one control each, and the
API's script_args / alwayson_scripts values are checked against them (modules/scripts/args.py).
check(app, request, args) may reject a request before it is queued (a UserError naming what is wrong).

Optional, for scripts whose arguments need more than one control each or A1111's looser API forms:
prepare_args(app, kind, values) translates a front door's values before they are checked (X/Y/Z: an axis
type given as A1111's index); build_controls(app, tab, elem_id) builds the script's own Gradio controls,
one per argument in args order (None: one control per ScriptArg), and control_values(args) gives their
values for a list of arguments; args_from_infotext(info) reads the script's arguments back from a parsed
infotext that records them (the UI's ↙️ paste and the API's `infotext` select the script with them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from modules.app import App
    from modules.generation.hooks import Hooks
    from modules.generation.pipeline import GenerationResult
    from modules.generation.request import GenerationRequest, Outcome
    from modules.jobs import Progress

ArgKind = Literal["bool", "int", "float", "str", "choice"]
TABS = ("txt2img", "img2img")


@dataclass(frozen=True)
class ScriptArg:
    """One argument: its label (the control's label; API errors name it), type and default; minimum/maximum/
    step for numbers (a slider when both bounds are set), choices for "choice", lines for a text box."""

    label: str
    kind: ArgKind
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    lines: int = 1
    info: str = ""  # help text under the control


class Script:
    """The base of every script (see the module doc); subclasses set the class attributes they need."""

    title: str = ""
    tabs: tuple[str, ...] = TABS
    is_alwayson: bool = False
    args: tuple[ScriptArg, ...] = ()

    def check(self, app: App, request: GenerationRequest, args: list[Any]) -> None:
        """Raise a UserError when the request cannot run with args (before it is queued)."""

    def run(self, app: App, request: GenerationRequest, args: list[Any], progress: Progress) -> GenerationResult:
        """A selectable script's whole generation (request: without this script selected)."""
        raise NotImplementedError(f"{self.title} is always on and cannot be selected")

    def hooks(self, args: list[Any]) -> Hooks | None:
        """An always-on script's hooks for one generation with args (None: no effect)."""
        return None

    def prepare_args(self, app: App, kind: str, values: list[Any]) -> list[Any]:
        """A front door's values before check_args (InvalidParams naming a bad one); unchanged by default."""
        return values

    def build_controls(self, app: App, tab: str, elem_id: str) -> list[Any] | None:
        """The script's own controls (inside its group), one per argument in args order; None: the default
        control per ScriptArg (modules/ui/script_controls.py)."""
        return None

    def control_values(self, args: list[Any]) -> list[Any]:
        """The values of the script's controls showing args (for a paste); the args themselves by default."""
        return list(args)

    def args_from_infotext(self, info: Mapping[str, str]) -> list[Any] | None:
        """The script's arguments an infotext records ({key: value}, parse_infotext's), None when it has none."""
        return None


@dataclass(frozen=True)
class ScriptCall:
    script: Script
    args: tuple[Any, ...]  # checked and converted (args.check_args)


@dataclass(frozen=True)
class ScriptRun:
    """The scripts of one request: the selected one (or None) and every always-on script with its args."""

    selected: ScriptCall | None = None
    alwayson: tuple[ScriptCall, ...] = ()

    def hooks(self) -> Hooks | None:
        """The always-on scripts' hooks, in their order (None when none has any)."""
        from modules.generation.hooks import Hooks

        joined: Hooks | None = None
        for call in self.alwayson:
            hooks = call.script.hooks(list(call.args))
            if hooks:
                joined = (joined or Hooks()).merged(hooks)
        return joined

    def without_selected(self) -> ScriptRun:
        return replace(self, selected=None)


def generate_now(app: App, request: GenerationRequest, progress: Progress) -> Outcome:
    """Draw request inside the running job (a script's run): its rules, the size rule, its always-on
    scripts' hooks; never a selected script, never a checkpoint switch (the job has loaded it)."""
    from modules.generation.resolve import draw

    scripts = request.scripts.without_selected() if isinstance(request.scripts, ScriptRun) else request.scripts
    return draw(app, replace(request, scripts=scripts, checkpoint=None), progress)


def combine(results: list[GenerationResult], save_images: bool) -> GenerationResult:
    """One result of several generations (images, paths, seeds and infotexts in order; no grid)."""
    from modules.generation.pipeline import GenerationResult
    from modules.messages import msg

    out = GenerationResult(scheduler=results[0].scheduler if results else "")
    for result in results:
        out.images += result.images
        out.paths += result.paths
        out.seeds += result.seeds
        out.infotexts += result.infotexts
        out.warnings += result.warnings
        out.interrupted = out.interrupted or result.interrupted
    if out.interrupted:
        out.message = msg("script_interrupted", done=len(out.images))
    elif save_images and out.paths:
        out.message = msg("saved", count=len(out.paths), folder=out.paths[0].parent)
    else:
        out.message = msg("generated_not_saved", count=len(out.images))
    for warning in out.warnings:
        out.message += " " + warning
    return out
