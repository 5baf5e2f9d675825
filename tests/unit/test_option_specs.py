"""Option specs: every option described; Options reads, checks, saves and reloads every registered key,
an extension's too (registered after config.json was read)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from modules.errors import InvalidParams
from modules.generation.params import Txt2ImgParams
from modules.option_specs import PATH_OPTIONS, OptionSpec, core_options, locked_changes, options_by_section
from modules.options import RUN_OPTIONS, Options, core_option_section
from modules.registry import Registry

A1111_KEYS = ("samples_save", "samples_format", "samples_filename_pattern", "save_images_add_number", "grid_save",
              "grid_format", "enable_pnginfo", "jpeg_quality", "webp_lossless", "outdir_samples",
              "outdir_txt2img_samples", "outdir_img2img_samples", "outdir_grids", "outdir_txt2img_grids",
              "outdir_img2img_grids", "save_to_dirs", "grid_save_to_dirs", "directories_filename_pattern",
              "directories_max_prompt_words", "CLIP_stop_at_last_layers", "emphasis", "sd_noise_schedule",
              "live_previews_enable", "show_progress_every_n_steps", "show_progress_type", "show_progress_grid",
              "return_grid")


def test_every_option_has_label_section_help_and_a_default_it_accepts() -> None:
    specs = core_options()
    assert set(A1111_KEYS) <= set(specs)
    for key, spec in specs.items():
        assert spec.label and spec.section and spec.help, key
        assert spec.check(key, spec.default) == spec.default, key
        assert key not in RUN_OPTIONS or key not in PATH_OPTIONS  # a request never picks folders
    defaults = {f.name: f.default for f in dataclasses.fields(Txt2ImgParams)}
    for key, spec in specs.items():
        if spec.field:  # an option that supplies a request field starts at that field's default
            assert spec.default == defaults[spec.field], key
    sections = options_by_section(core_option_section())
    assert list(sections)[:3] == ["Saving images/grids", "Paths for saving", "Saving to a directory"]


def test_new_keys_are_checked_saved_and_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    options = Options(path)
    assert options.get("samples_format") == "png" and options.get("jpeg_quality") == 80
    options.update({"samples_format": "webp", "jpeg_quality": 90.0, "samples_filename_pattern": "[seed]-[steps]",
                    "outdir_txt2img_samples": "elsewhere", "default_sampler": "Euler a", "grid_save": False})
    again = Options(path)
    assert again.get("samples_format") == "webp" and again.get("jpeg_quality") == 90
    assert isinstance(again.get("jpeg_quality"), int)
    assert again.get("samples_filename_pattern") == "[seed]-[steps]" and again.get("grid_save") is False
    assert again.param_defaults()["sampler_name"] == "Euler a"
    assert json.loads(path.read_text(encoding="utf-8"))["outdir_txt2img_samples"] == "elsewhere"


@pytest.mark.parametrize(("key", "value", "words"), [
    ("samples_format", "gif", "choose one of png, jpg, webp"),
    ("jpeg_quality", 0, "between 1 and 100"),
    ("jpeg_quality", "high", "cannot be set"),
    ("grid_save", "yes", "cannot be set"),
    ("directories_filename_pattern", "../up/[date]", "inside the output folder"),
    ("directories_filename_pattern", "/abs", "inside the output folder"),
    ("default_sampler", "No such sampler", "Unknown sampler"),
    ("CLIP_stop_at_last_layers", 13, "must be between 1 and 12"),
])
def test_bad_values_are_refused_naming_the_option(key: str, value: object, words: str) -> None:
    options = Options()
    with pytest.raises(InvalidParams, match=words) as caught:
        options.update({key: value})
    assert key in str(caught.value)
    assert options.problems({"return_grid": False, "emphasis": "Magic", key: value}).keys() == {key, "emphasis"}


def test_reload_reads_the_file_again(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    options = Options(path)
    options.update({"jpeg_quality": 70})
    path.write_text(json.dumps({"jpeg_quality": 55, "samples_format": "jpg", "someone_elses": 1}), encoding="utf-8")
    options.reload()
    assert options.get("jpeg_quality") == 55 and options.get("samples_format") == "jpg"
    path.write_text(json.dumps({"jpeg_quality": 555}), encoding="utf-8")
    options.reload()
    assert options.get("jpeg_quality") == 80 and "jpeg_quality" in options.notice  # refused: the default
    assert options.get("samples_format") == "png"  # gone from the file: back to its default


def test_an_option_registered_later_takes_its_value_from_the_file(tmp_path: Path) -> None:
    """As an extension does: its key was in config.json (kept as unknown) before it registered."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"my_ext_strength": 0.25, "my_ext_mode": "loud"}), encoding="utf-8")
    registry = Registry()
    options = Options(path, registry.options)
    assert options.get("my_ext_strength") is None
    registry.options.register("my_ext_strength", OptionSpec(0.5, float, minimum=0, maximum=1, label="Strength",
                                                            section="My extension", help="How strong"),
                              source="my-ext")
    registry.options.register("my_ext_mode", OptionSpec("quiet", str, choices=("quiet", "normal")), source="my-ext")
    assert options.get("my_ext_strength") == 0.25
    assert options.get("my_ext_mode") == "quiet"  # the file's value is refused: the default
    assert options.as_dict()["my_ext_strength"] == 0.25
    with pytest.raises(InvalidParams, match="between 0 and 1"):
        options.update({"my_ext_strength": 2})
    options.update({"my_ext_strength": 1})
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["my_ext_strength"] == 1.0 and written["my_ext_mode"] == "loud"  # refused values kept as they were
    assert Options(path, registry.options).get("my_ext_strength") == 1.0


def test_folder_options_are_locked_on_a_shared_server(make_app) -> None:  # noqa: ANN001
    app = make_app(load=False)
    change = {"outdir_samples": "/tmp/x", "jpeg_quality": 50, "samples_filename_pattern": ""}
    assert locked_changes(app, change) == []
    app.settings.listen = True
    assert locked_changes(app, change) == ["outdir_samples"]  # the pattern is unchanged; quality is no folder
    app.settings.enable_insecure_extension_access = True
    assert locked_changes(app, change) == []


def test_a_sampler_known_to_the_app_can_be_the_default_sampler(make_app) -> None:  # noqa: ANN001
    """The Settings tab offers the registered samplers (an extension's too), so the option takes them; a name
    nobody registered is still refused."""
    from modules.samplers.specs import SamplerSpec

    app = make_app((), load=False)
    spec = SamplerSpec("Euler (ext)", "EulerDiscreteScheduler", config={"timestep_spacing": "trailing"})
    app.registry.samplers.register(spec.name, spec, source="ext")
    assert app.options.check("default_sampler", "Euler (ext)") == "Euler (ext)"
    with pytest.raises(InvalidParams, match="default_sampler"):
        app.options.check("default_sampler", "No such sampler")
