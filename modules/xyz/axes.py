"""X/Y/Z plot axis types: what an axis changes in a request, which values it takes, how a value reads.

    axis = AxisSpec("Steps", "int", set_field("steps"))
    app.registry.xyz_axes.register(axis.label, axis)              # core axes: register_core_axes
    ext.registry.xyz_axes.register("My axis", AxisSpec(...))      # an extension adds one the same way
    axes_for(app, "txt2img")                                       # the axes of a tab, in list order
    values = check_axis_values(app, axis, request, parse_values(axis, "10-30 (+10)"))
    cell = axis.apply(request, values[0])                          # a changed copy of the request

apply(request, value) never changes request. Every value is checked before anything runs
(check_axis_values): the axis must exist for the tab, a choice axis takes its choices (any case; the
canonical spelling is handed back), and each value, applied to a copy, must pass the request's own
range checks; InvalidParams names the axis and the bad value.

Beyond A1111: "LoRA weight" and "Hypernetwork strength" take a number (set on every <lora:...> /
<hypernet:...> tag of the prompt) or name:number (that network's tag; appended to the prompt when the
prompt has none), e.g. `0, 0.5, 1` or `foxStyle:0.2, foxStyle:0.6`.
Differences: "Initial noise multiplier" is img2img's only (txt2img has no such field here); Checkpoint
name and VAE set the request's checkpoint / vae (the plot's runner loads the checkpoint), Clip skip the
params' clip_skip (A1111: override_settings). A1111_AXIS_ORDER keeps A1111's lists, the axes this app
lacks included, for the API's axis indexes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams, UserError
from modules.messages import msg
from modules.xyz import prompt_edits

if TYPE_CHECKING:
    from modules.app import App
    from modules.generation.request import GenerationRequest
    from modules.registry import Registry

TABS = ("txt2img", "img2img")
T2I, I2I = ("txt2img",), ("img2img",)
BARE_VALUE = ("Prompt S/R", "Sampler", "Face restore")  # A1111 shows these axes' values without the label

Apply = Callable[["GenerationRequest", Any], "GenerationRequest"]


@dataclass(frozen=True)
class AxisSpec:
    """One axis type. label: A1111's exact label; value_type: "int" | "float" | "str" | "size" |
    "permutation" | "none" (modules/xyz/values.py); apply(request, value) -> a changed copy; choices(app):
    the values a choice axis takes (a dropdown in the UI); cost: how slow a change is (the costliest axis is
    the outer loop: Checkpoint name 1.0, VAE 0.7); label_of(value): the legend text (default "<label>:
    <value>"); check(app, request, values): extra checks raising InvalidParams; normalize(app, value): the
    canonical value (InvalidParams when unknown), used instead of the plain choices match."""

    label: str
    value_type: str
    apply: Apply
    choices: Callable[[App], list[str]] | None = None
    cost: float = 0.0
    tabs: tuple[str, ...] = TABS
    label_of: Callable[[Any], str] | None = None
    check: Callable[[App, GenerationRequest, list[Any]], None] | None = None
    normalize: Callable[[App, Any], Any] | None = None

    def legend(self, value: Any) -> str:
        """The text drawn for value in the grid's legend ("" for Nothing)."""
        if self.label_of is not None:
            return self.label_of(value)
        if self.value_type == "none":
            return ""
        if isinstance(value, float):
            value = round(value, 8)
        if self.value_type == "size" and isinstance(value, tuple):
            value = f"{value[0]}x{value[1]}"
        return str(value) if self.label in BARE_VALUE else f"{self.label}: {value}"


# --- apply functions --------------------------------------------------------------------------------------
def set_field(*names: str) -> Apply:
    """An apply that sets these params fields to the value (marked as the caller's, so neither an option
    default nor an infotext overrides them)."""

    def apply(request: GenerationRequest, value: Any) -> GenerationRequest:
        params = replace(request.params, **{name: value for name in names})
        return replace(request, params=params, explicit=request.explicit | set(names))

    return apply


def _nothing(request: GenerationRequest, _value: Any) -> GenerationRequest:
    return replace(request)


def _size(request: GenerationRequest, value: tuple[int, int]) -> GenerationRequest:
    params = replace(request.params, width=int(value[0]), height=int(value[1]))
    return replace(request, params=params, explicit=request.explicit | {"width", "height"}, size_from_model=False)


def _search_replace(request: GenerationRequest, value: str) -> GenerationRequest:
    search = getattr(value, "search", None)
    if search is None:
        raise InvalidParams(msg("xyz_bad_value", axis="Prompt S/R", value=value,
                                error="its values must come from parse_values (they carry the search text)"))
    p = request.params
    params = replace(p, prompt=prompt_edits.replace_all(p.prompt, search, str(value)),
                     negative_prompt=prompt_edits.replace_all(p.negative_prompt, search, str(value)))
    return replace(request, params=params, explicit=request.explicit | {"prompt", "negative_prompt"})


def _prompt_order(request: GenerationRequest, order: tuple[str, ...]) -> GenerationRequest:
    params = replace(request.params, prompt=prompt_edits.reorder(request.params.prompt, tuple(order)))
    return replace(request, params=params, explicit=request.explicit | {"prompt"})


def _checkpoint(request: GenerationRequest, value: str) -> GenerationRequest:
    return replace(request, checkpoint=value)


def _vae(request: GenerationRequest, value: str) -> GenerationRequest:
    return replace(request, vae=value)


def _style_names(value: str) -> list[str]:
    return [name.strip() for name in str(value).split(",") if name.strip()]


def _styles(request: GenerationRequest, value: str) -> GenerationRequest:
    return replace(request, styles=(*request.styles, *_style_names(value)))


def network_weight(kinds: tuple[str, ...], add: str) -> Apply:
    """An apply for "LoRA weight" style axes (see the module doc)."""

    def apply(request: GenerationRequest, value: str) -> GenerationRequest:
        parsed = prompt_edits.parse_network_weight(value)
        if parsed is None:
            raise InvalidParams(msg("xyz_bad_network_weight", axis=add, value=value, tag=f"<{add}:...>"))
        name, weight = parsed
        prompt = prompt_edits.set_network_weight(request.params.prompt, kinds, name, weight, add=add)
        return replace(request, params=replace(request.params, prompt=prompt), explicit=request.explicit | {"prompt"})

    return apply


# --- choices and checks -----------------------------------------------------------------------------------
def _samplers(app: App) -> list[str]:
    from modules.samplers.registry import sampler_table

    return sampler_table(app.registry).sampler_names()


def _schedules(app: App) -> list[str]:
    from modules.samplers.registry import sampler_table

    return sampler_table(app.registry).schedule_labels()


def _hires_upscalers(app: App) -> list[str]:
    from modules.generation.hires import upscaler_choices  # the latent modes, then the registered upscalers

    return upscaler_choices(app.registry)


def _checkpoints(app: App) -> list[str]:
    return sorted((info.title for info in app.folders.checkpoints()), key=str.casefold)


def _style_choices(app: App) -> list[str]:
    from modules.styles import StyleStore

    return [style.name for style in StyleStore.in_data_dir(app.settings.data_dir).load()]


def _normalize_sampler(app: App, value: Any, allow_same: bool = False) -> str:
    from modules.samplers.registry import sampler_table

    table = sampler_table(app.registry)
    if allow_same and str(value).strip().casefold() == "use same sampler":
        return "Use same sampler"
    sampler, _schedule = table.split_legacy_name(str(value))
    try:
        found = table.find_sampler(sampler).name
    except InvalidParams:
        raise InvalidParams(msg("xyz_unknown_choice", axis="Hires sampler" if allow_same else "Sampler",
                                value=value, choices=", ".join(_samplers(app)))) from None
    return found if sampler == str(value) else str(value)  # a legacy 'DPM++ 2M Karras' stays whole


def _normalize_checkpoint(app: App, value: Any) -> str:
    info = app.folders.find_checkpoint(str(value))
    if info is None:
        raise InvalidParams(msg("xyz_unknown_choice", axis="Checkpoint name", value=value,
                                choices=", ".join(_checkpoints(app))[:2000] or "none (add a checkpoint)"))
    return info.title


def _normalize_vae(app: App, value: Any) -> str:
    if not app.networks.vaes.known(str(value)):
        by_case = [c for c in app.networks.vaes.choices() if c.casefold() == str(value).casefold()]
        if by_case:
            return by_case[0]
        raise InvalidParams(msg("xyz_unknown_choice", axis="VAE", value=value,
                                choices=", ".join(app.networks.vaes.choices())[:2000]))
    return str(value)


def _normalize_styles(app: App, value: Any) -> str:
    """'snow, night' -> 'Snow, Night' (each name as saved; InvalidParams naming an unknown one)."""
    known = {name.casefold(): name for name in _style_choices(app)}
    names = []
    for name in _style_names(value):
        if name.casefold() not in known:
            raise InvalidParams(msg("xyz_unknown_choice", axis="Styles", value=name,
                                    choices=", ".join(known.values())[:2000] or "none (save a style first)"))
        names.append(known[name.casefold()])
    return ", ".join(names)


def _check_search(_app: App, request: GenerationRequest, values: list[Any]) -> None:
    search = getattr(values[0], "search", values[0]) if values else ""
    if search not in request.params.prompt and search not in request.params.negative_prompt:
        raise InvalidParams(msg("xyz_not_in_prompt", axis="Prompt S/R", value=search))


def _check_order(_app: App, request: GenerationRequest, values: list[Any]) -> None:
    for text in values[0] if values else ():
        if text not in request.params.prompt:
            raise InvalidParams(msg("xyz_order_not_in_prompt", axis="Prompt order", value=text))


def _check_network(label: str, kinds: tuple[str, ...], add: str,
                   library: Callable[[App], Any]) -> Callable[[App, GenerationRequest, list[Any]], None]:
    def check(app: App, request: GenerationRequest, values: list[Any]) -> None:
        for value in values:
            parsed = prompt_edits.parse_network_weight(value)
            if parsed is None:
                raise InvalidParams(msg("xyz_bad_network_weight", axis=label, value=value, tag=f"<{add}:...>"))
            name, _weight = parsed
            if name is None and not prompt_edits.network_tags(request.params.prompt, kinds):
                raise InvalidParams(msg("xyz_no_network_tag", axis=label, value=value, tag=add))
            if name is not None and library(app).find(name) is None:
                names = ", ".join(f.name for f in library(app).files())[:2000] or "none"
                raise InvalidParams(msg("xyz_unknown_choice", axis=label, value=name, choices=names))

    return check


def _basename(value: Any) -> str:
    return os.path.basename(str(value))


def _order_label(value: Any) -> str:
    return ", ".join(value)


# --- the core axes ----------------------------------------------------------------------------------------
def core_axes() -> list[AxisSpec]:
    """The axes this app has, in A1111's order (A1111_AXIS_ORDER), then the ones beyond A1111."""
    return [
        AxisSpec("Nothing", "none", _nothing, label_of=lambda _value: ""),
        AxisSpec("Seed", "int", set_field("seed")),
        AxisSpec("Var. seed", "int", set_field("subseed")),
        AxisSpec("Var. strength", "float", set_field("subseed_strength")),
        AxisSpec("Steps", "int", set_field("steps")),
        AxisSpec("Hires steps", "int", set_field("hr_second_pass_steps"), tabs=T2I),
        AxisSpec("CFG Scale", "float", set_field("cfg_scale")),
        AxisSpec("Prompt S/R", "str", _search_replace, label_of=str, check=_check_search),
        AxisSpec("Prompt order", "permutation", _prompt_order, label_of=_order_label, check=_check_order),
        AxisSpec("Sampler", "str", set_field("sampler_name"), choices=_samplers, label_of=str,
                 normalize=_normalize_sampler),
        AxisSpec("Hires sampler", "str", set_field("hr_sampler_name"), tabs=T2I,
                 choices=lambda app: ["Use same sampler", *_samplers(app)],
                 normalize=lambda app, value: _normalize_sampler(app, value, allow_same=True)),
        AxisSpec("Checkpoint name", "str", _checkpoint, choices=_checkpoints, cost=1.0, label_of=_basename,
                 normalize=_normalize_checkpoint),
        AxisSpec("Schedule type", "str", set_field("scheduler"), choices=_schedules),
        AxisSpec("Clip skip", "int", set_field("clip_skip")),
        AxisSpec("Denoising", "float", set_field("denoising_strength")),
        AxisSpec("Initial noise multiplier", "float", set_field("initial_noise_multiplier"), tabs=I2I),
        AxisSpec("Hires upscaler", "str", set_field("hr_upscaler"), tabs=T2I, choices=_hires_upscalers),
        AxisSpec("VAE", "str", _vae, choices=lambda app: app.networks.vaes.choices(), cost=0.7,
                 normalize=_normalize_vae),
        AxisSpec("Styles", "str", _styles, choices=_style_choices, normalize=_normalize_styles),
        AxisSpec("Size", "size", _size, label_of=lambda value: f"Size: {value[0]}x{value[1]}"),
        AxisSpec("LoRA weight", "str", network_weight(("lora", "lyco"), "lora"),
                 check=_check_network("LoRA weight", ("lora", "lyco"), "lora", lambda app: app.networks.loras)),
        AxisSpec("Hypernetwork strength", "str", network_weight(("hypernet",), "hypernet"),
                 check=_check_network("Hypernetwork strength", ("hypernet",), "hypernet",
                                      lambda app: app.networks.hypernetworks)),
    ]


def register_core_axes(registry: Registry) -> None:
    """Add the core axes to registry.xyz_axes (build_app, before any extension)."""
    for axis in core_axes():
        registry.xyz_axes.register(axis.label, axis)


def axes_for(app: App, kind: str) -> list[AxisSpec]:
    """The registered axes of tab kind ("txt2img"/"img2img"), core ones first, in list order."""
    return [axis for axis in app.registry.xyz_axes.items() if isinstance(axis, AxisSpec) and kind in axis.tabs]


def find_axis(app: App, kind: str, label: str) -> AxisSpec:
    """The axis called label (any case) of tab kind; InvalidParams listing the axes there are."""
    axis = app.registry.xyz_axes.get(label) if isinstance(label, str) else None
    if not isinstance(axis, AxisSpec):
        labels = ", ".join(a.label for a in axes_for(app, kind))
        raise InvalidParams(msg("xyz_unknown_axis", axis=str(label)[:80], choices=labels))
    if kind not in axis.tabs:
        raise InvalidParams(msg("xyz_axis_not_for_tab", axis=axis.label, kind=kind))
    return axis


def check_axis_values(app: App, axis: AxisSpec, request: GenerationRequest, values: list[Any]) -> list[Any]:
    """Check values of axis for request before anything runs (see the module doc); returns them with choice
    values in their canonical spelling. InvalidParams naming the axis and the first bad value."""
    if request.kind not in axis.tabs:
        raise InvalidParams(msg("xyz_axis_not_for_tab", axis=axis.label, kind=request.kind))
    if axis.value_type == "none":
        return list(values)
    checked = [_canonical(app, axis, value) for value in values]
    if axis.check is not None:
        axis.check(app, request, checked)
    for value in checked:
        try:
            axis.apply(request, value).params.validate_ranges()
        except UserError as e:
            raise InvalidParams(msg("xyz_bad_value", axis=axis.label, value=axis.legend(value) or value,
                                    error=str(e))) from None
        except (TypeError, ValueError) as e:  # an extension's apply that cannot take this value
            raise InvalidParams(msg("xyz_bad_value", axis=axis.label, value=value, error=str(e))) from None
    return checked


def _canonical(app: App, axis: AxisSpec, value: Any) -> Any:
    if axis.normalize is not None:
        return axis.normalize(app, value)
    if axis.choices is None:
        return value
    choices = axis.choices(app)
    found = [c for c in choices if c.casefold() == str(value).strip().casefold()]
    if not found:
        raise InvalidParams(msg("xyz_unknown_choice", axis=axis.label, value=value,
                                choices=", ".join(choices)[:2000] or "none"))
    return found[0]


# A1111 v1.10.1's axis lists per tab, in order, with the axes this app lacks: script_args give an axis as
# its index in these lists. (Doubt: the list below is from the compatibility reference, section 5.2, and
# the coordinator's notes; A1111 builds it from one list filtered by tab, in this order.)
_A1111_AXES = (
    ("Nothing", TABS), ("Seed", TABS), ("Var. seed", TABS), ("Var. strength", TABS), ("Steps", TABS),
    ("Hires steps", T2I), ("CFG Scale", TABS), ("Image CFG Scale", I2I), ("Prompt S/R", TABS),
    ("Prompt order", TABS), ("Sampler", T2I), ("Hires sampler", T2I), ("Sampler", I2I),
    ("Checkpoint name", TABS), ("Negative Guidance minimum sigma", TABS), ("Sigma Churn", TABS),
    ("Sigma min", TABS), ("Sigma max", TABS), ("Sigma noise", TABS), ("Schedule type", TABS),
    ("Schedule min sigma", TABS), ("Schedule max sigma", TABS), ("Schedule rho", TABS),
    ("Beta schedule alpha", TABS), ("Beta schedule beta", TABS), ("Eta", TABS), ("Clip skip", TABS),
    ("Denoising", TABS), ("Initial noise multiplier", TABS), ("Extra noise", TABS), ("Hires upscaler", T2I),
    ("Cond. Image Mask Weight", I2I), ("VAE", TABS), ("Styles", TABS), ("UniPC Order", TABS),
    ("Face restore", TABS), ("Token merging ratio", TABS), ("Token merging ratio high-res", TABS),
    ("Always discard next-to-last sigma", TABS), ("SGM noise multiplier", TABS), ("Refiner checkpoint", TABS),
    ("Refiner switch at", TABS), ("RNG source", TABS), ("FP8 mode", TABS), ("Size", TABS),
)
A1111_AXIS_ORDER: dict[str, tuple[str, ...]] = {
    kind: tuple(label for label, tabs in _A1111_AXES if kind in tabs) for kind in TABS}
