"""The scripts of a tab, and a request's ScriptRun from what a front door was given.

    scripts_for(app, "txt2img")                   # [(title, Script)] registered for that tab, in order
    script_run(app, "txt2img", "prompts from file or textbox", [False, False, "start", "a\\nb"],
               {"My always-on": {"args": [True]}})

Names are matched case-insensitively (A1111's script_name). Errors are InvalidParams (a 422 from the API)
naming the script and listing those there are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams
from modules.messages import msg
from modules.scripts.args import arg_info, check_args
from modules.scripts.base import Script, ScriptCall, ScriptRun

if TYPE_CHECKING:
    from modules.app import App

NONE = "None"  # the dropdown's "no script" entry


def scripts_for(app: App, kind: str, alwayson: bool | None = None) -> list[tuple[str, Script]]:
    """(title, script) registered for tab kind; alwayson True/False keeps only those/the selectable ones."""
    found = []
    for entry in app.registry.scripts.entries():
        script = entry.item
        if not isinstance(script, Script) or kind not in script.tabs:
            continue
        if alwayson is None or bool(script.is_alwayson) == alwayson:
            found.append((entry.name, script))
    return found


def script_run(app: App, kind: str, name: str | None, args: Sequence[Any] | None = None,
               alwayson: Mapping[str, Any] | None = None) -> ScriptRun:
    """The selected script (None, "" or "None": none) with its args checked, and every always-on script of the
    tab with the args given for it in alwayson ({title: {"args": [...]}}; the others get their defaults)."""
    selected = None
    if name and name.strip() and name.strip().casefold() != NONE.casefold():
        script = _find(scripts_for(app, kind, alwayson=False), name, kind, "script_unknown")
        selected = ScriptCall(script, check_args(script, script.prepare_args(app, kind, list(args or []))))
    given = {str(k).casefold(): (str(k), v) for k, v in (alwayson or {}).items()}
    calls = []
    for title, script in scripts_for(app, kind, alwayson=True):
        _title, value = given.pop(title.casefold(), (title, None))
        values = _alwayson_args(title, value)
        calls.append(ScriptCall(script, check_args(script, None if values is None else
                                                   script.prepare_args(app, kind, values))))
    if given:
        unknown = next(iter(given.values()))[0]
        _find(scripts_for(app, kind, alwayson=True), unknown, kind, "alwayson_script_unknown")
    return ScriptRun(selected, tuple(calls))


def script_from_infotext(app: App, kind: str, infotext: str | None) -> tuple[str, list[Any]] | None:
    """(title, args) of the selectable script an infotext records (an X/Y/Z grid's "Script: X/Y/Z plot"
    with its axes), None when it records none this tab has."""
    from modules.generation.infotext import parse_infotext

    if not infotext or not infotext.strip():
        return None
    info = parse_infotext(infotext)
    for title, script in scripts_for(app, kind, alwayson=False):
        args = script.args_from_infotext(info)
        if args is not None:
            return title, args
    return None


def script_run_with_infotext(app: App, kind: str, name: str | None, args: Sequence[Any] | None,
                             alwayson: Mapping[str, Any] | None, infotext: str | None) -> ScriptRun:
    """script_run, where a request that names no script gets the one its infotext records (the API's
    `infotext` fills script_name and script_args, as the UI's paste fills the Script dropdown)."""
    if not (name and name.strip() and name.strip().casefold() != NONE.casefold()) and not args:
        found = script_from_infotext(app, kind, infotext)
        if found is not None:
            name, args = found
    return script_run(app, kind, name, args, alwayson)


def _find(scripts: list[tuple[str, Script]], name: str, kind: str, key: str) -> Script:
    wanted = name.strip().casefold()
    for title, script in scripts:
        if title.casefold() == wanted:
            return script
    listed = ", ".join(title for title, _ in scripts) or "none"
    raise InvalidParams(msg(key, name=name[:100], kind=kind, choices=listed))


def _alwayson_args(title: str, value: Any) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        value = value.get("args", [])
    if not isinstance(value, (list, tuple)):
        raise InvalidParams(msg("alwayson_script_bad_args", name=title))
    return list(value)


def scripts_list(app: App) -> dict[str, list[str]]:
    """GET /sdapi/v1/scripts: every script's name (lower-case title, as A1111) per tab."""
    return {kind: [title.lower() for title, _ in scripts_for(app, kind)] for kind in ("txt2img", "img2img")}


def scripts_info(app: App) -> list[dict[str, Any]]:
    """GET /sdapi/v1/script-info: one entry per script and tab, with its arguments (A1111's shape)."""
    return [{"name": title.lower(), "is_alwayson": bool(script.is_alwayson), "is_img2img": kind == "img2img",
             "args": [arg_info(arg) for arg in script.args]}
            for kind in ("txt2img", "img2img") for title, script in scripts_for(app, kind)]
