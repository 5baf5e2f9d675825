"""Option specs: what each setting is (label, section, help text, type, default, allowed values).

Every option the app honours is an OptionSpec registered by its A1111 key in app.registry.options
(register_core_options runs in build_app); an extension registers its own the same way:

    ext.registry.options.register("my_ext_strength", OptionSpec(0.5, float, minimum=0, maximum=1,
                                  label="Strength", section="My extension", help="How strong ..."))

Options (modules/options.py) reads the value of every registered key from config.json, checks it
with the spec and writes it back; the Settings tab (modules/ui/settings_tab.py) builds one control per
spec, grouped by section. Pure data and pure checks: nothing here touches the App's state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modules.errors import InvalidParams
from modules.messages import msg

if TYPE_CHECKING:
    from modules.app import App
    from modules.registry import Section

PREVIEW_TYPES = ("Approx cheap", "Full")
IMAGE_FORMATS = ("png", "jpg", "webp")
# options naming folders or file names: an API client or a page visitor can change them only where new
# code may be installed (not under --listen without --enable-insecure-extension-access), as A1111 hides them
PATH_OPTIONS = ("outdir_samples", "outdir_txt2img_samples", "outdir_img2img_samples", "outdir_grids",
                "outdir_txt2img_grids", "outdir_img2img_grids", "samples_filename_pattern",
                "directories_filename_pattern")


@dataclass(frozen=True)
class OptionSpec:
    """One setting. kind: bool, int, float or str. choices: the allowed values (a dropdown), or
    choices_from(app) for values known only at run time (e.g. the registered samplers; the check is then
    field's or check_value's). field: the Txt2ImgParams field the option supplies when a request does not
    set it; its value is then also checked by that dataclass's validate(). check_value(value) returns a
    message when the value is refused. restricted: a folder or file name (see PATH_OPTIONS)."""

    default: Any
    kind: type
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    label: str = ""
    section: str = ""
    help: str = ""
    step: float | None = None
    field: str | None = None
    choices_from: Callable[[App], Sequence[Any]] | None = None
    check_value: Callable[[Any], str | None] | None = None
    restricted: bool = False

    def check(self, key: str, value: Any, known: Sequence[Any] | None = None) -> Any:
        """The value as stored (whole floats become ints for int options), or InvalidParams naming key.
        known: choices_from(app) where the App is at hand (the registered samplers, extensions' included);
        without it a field option is checked by its dataclass against the core entries."""
        if self.kind is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) != (self.kind is bool) or not isinstance(value, self.kind):
            raise InvalidParams(msg("bad_option", option=key, value=value))
        if self.choices and value not in self.choices:
            raise InvalidParams(msg("option_choices", option=key, value=value,
                                    choices=", ".join(map(str, self.choices))))
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise InvalidParams(msg("option_range", option=key, value=value, low=self.minimum, high=self.maximum))
        problem = self.check_value(value) if self.check_value is not None else None
        if problem:
            raise InvalidParams(msg("option_refused", option=key, reason=problem))
        if known is not None and value not in known:
            raise InvalidParams(msg("option_choices", option=key, value=value, choices=", ".join(map(str, known))))
        if self.field is not None:
            from modules.generation.params import Txt2ImgParams

            params = Txt2ImgParams(**{self.field: value})
            try:
                params.validate_ranges() if known is not None else params.validate()
            except InvalidParams as e:
                raise InvalidParams(f"{key}: {e}") from None
        return value


def _relative_folder(value: str) -> str | None:
    """A folder pattern stays under its output folder: no '..' part, not absolute."""
    parts = value.replace("\\", "/").split("/")
    if value.startswith(("/", "\\")) or ".." in parts or (len(value) > 1 and value[1] == ":"):
        return msg("option_folder_pattern_outside")
    return None


def _sampler_names(app: App) -> list[str]:
    names = app.registry.samplers.names()
    if names:
        return names
    from modules.samplers.registry import sampler_names

    return sampler_names()


def _spec(key: str, default: Any, kind: type, section: str, **more: Any) -> tuple[str, OptionSpec]:
    return key, OptionSpec(default, kind, label=msg(f"opt_{key}"), section=msg(f"section_{section}"),
                           help=msg(f"opt_{key}_help"), restricted=key in PATH_OPTIONS, **more)


def core_options() -> dict[str, OptionSpec]:
    """The options of the app itself, by A1111 key, in the order the Settings tab shows them."""
    from modules.generation.prompt_chunks import EMPHASIS_MODES
    from modules.samplers.noise_schedule import NOISE_SCHEDULES

    img = ("saving", "paths", "dirs")
    return dict((
        _spec("samples_save", True, bool, img[0]),
        _spec("samples_format", "png", str, img[0], choices=IMAGE_FORMATS),
        _spec("samples_filename_pattern", "", str, img[0]),
        _spec("save_images_add_number", True, bool, img[0]),
        _spec("grid_save", True, bool, img[0]),
        _spec("grid_format", "png", str, img[0], choices=IMAGE_FORMATS),
        _spec("enable_pnginfo", True, bool, img[0]),
        _spec("jpeg_quality", 80, int, img[0], minimum=1, maximum=100, step=1),
        _spec("webp_lossless", False, bool, img[0]),
        _spec("outdir_samples", "", str, img[1]),
        _spec("outdir_txt2img_samples", "outputs/txt2img-images", str, img[1]),
        _spec("outdir_img2img_samples", "outputs/img2img-images", str, img[1]),
        _spec("outdir_grids", "", str, img[1]),
        _spec("outdir_txt2img_grids", "outputs/txt2img-grids", str, img[1]),
        _spec("outdir_img2img_grids", "outputs/img2img-grids", str, img[1]),
        _spec("save_to_dirs", True, bool, img[2]),
        _spec("grid_save_to_dirs", True, bool, img[2]),
        _spec("directories_filename_pattern", "[date]", str, img[2], check_value=_relative_folder),
        _spec("directories_max_prompt_words", 8, int, img[2], minimum=1, maximum=20, step=1),
        _spec("CLIP_stop_at_last_layers", 1, int, "sd", minimum=1, maximum=12, step=1, field="clip_skip"),
        _spec("emphasis", "Original", str, "sd", choices=tuple(EMPHASIS_MODES), field="emphasis"),
        _spec("default_sampler", "DPM++ 2M", str, "sampler", field="sampler_name", choices_from=_sampler_names),
        # "Default": the schedule the checkpoint says it was trained on; "Zero Terminal SNR": that one for
        # every model (for zero-terminal-SNR checkpoints whose file does not say so)
        _spec("sd_noise_schedule", "Default", str, "sampler", choices=NOISE_SCHEDULES),
        _spec("live_previews_enable", True, bool, "previews"),
        # redraw the preview when sampling has advanced this many steps; -1: only at the end of a batch; 0: never
        _spec("show_progress_every_n_steps", 10, int, "previews", minimum=-1, maximum=1000, step=1),
        _spec("show_progress_type", "Approx cheap", str, "previews", choices=PREVIEW_TYPES),
        _spec("show_progress_grid", True, bool, "previews"),  # the whole batch as a grid, else its first image
        # A1111's "Show grid in gallery": the API answers a batch's grid first only with save_images and this on
        _spec("return_grid", True, bool, "gallery"),
    ))


def register_core_options(options: Section[Any]) -> None:
    """Put the core options into a registry section (build_app; Options() without a registry)."""
    for key, spec in core_options().items():
        options.register(key, spec)


def options_by_section(options: Section[Any]) -> dict[str, list[tuple[str, OptionSpec]]]:
    """{section: [(key, spec), ...]} in registration order (sections in order of their first option)."""
    grouped: dict[str, list[tuple[str, OptionSpec]]] = {}
    for entry in options.entries():
        if isinstance(entry.item, OptionSpec):
            grouped.setdefault(entry.item.section or msg("section_other"), []).append((entry.name, entry.item))
    return grouped


def locked_changes(app: App, values: dict[str, Any]) -> list[str]:
    """Keys among values naming folders or file names that may not be changed here (PATH_OPTIONS under
    --listen without --enable-insecure-extension-access) and whose value would change."""
    if app.settings.extensions_allowed:
        return []
    locked = []
    for key, value in values.items():
        spec = app.registry.options.get(key)
        if isinstance(spec, OptionSpec) and spec.restricted and value != app.options.get(key):
            locked.append(key)
    return locked
