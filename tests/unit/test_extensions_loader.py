"""The extension loader: what loads, what fails (and is rolled back), duplicates, disabled ones, callbacks,
and the example extension shipped in docs/."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from modules.app import App, build_app
from modules.extensions.state import disabled_names, save_enabled
from modules.messages import msg
from modules.settings import Settings
from tests.extension_kit import EXAMPLE, write_extension

GOOD = """
    from dataclasses import dataclass

    from . import helper


    @dataclass
    class Thing:  # a dataclass needs its module in sys.modules
        value: int


    def register(ext):
        ext.registry.upscalers.register("Good upscaler", Thing(helper.VALUE))
        ext.registry.scripts.register("Good script", object(), order=5)
        ext.on_app_started(lambda app: None)
"""


def make(data_dir: Path, *extra_dirs: Path, **settings: object) -> App:
    return build_app(Settings(data_dir=data_dir, device="cpu", demo_checkpoint=None, extensions_dirs=list(extra_dirs),
                              **settings))


def test_a_good_extension_registers_under_its_own_name(tmp_path: Path) -> None:
    write_extension(tmp_path / "extensions", "good-one", GOOD, {"helper.py": "VALUE = 7\n"})
    path_before = list(sys.path)
    app = make(tmp_path)
    info = app.extensions.get("good-one")
    assert info is not None and info.status == "loaded" and info.error == ""
    assert info.registered == ("upscaler: Good upscaler", "script: Good script")
    entry = app.registry.upscalers.entry("good upscaler")
    assert entry is not None and entry.source == "good-one" and entry.item.value == 7
    assert app.registry.scripts.entry("Good script").source == "good-one"
    assert [c.source for c in app.extensions.callbacks.of("app_started")] == ["good-one"]
    assert sys.path == path_before  # imported by file location, the search path untouched
    module = sys.modules[type(entry.item).__module__]
    assert module.__name__.startswith("_sdwebui_extension_") and Path(module.__file__).parent == info.path


def test_the_same_folder_loaded_by_two_apps_is_two_separate_modules(tmp_path: Path) -> None:
    write_extension(tmp_path / "extensions", "good-one", GOOD, {"helper.py": "VALUE = 7\n"})
    first, second = make(tmp_path), make(tmp_path)
    one, two = (type(a.registry.upscalers.get("Good upscaler")) for a in (first, second))
    assert one is not two and one.__module__ != two.__module__


def test_a_failing_import_is_listed_with_its_error_and_the_others_load(tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "extensions"
    write_extension(root, "a-missing-package", "import no_such_package_here\n\ndef register(ext):\n    pass\n")
    write_extension(root, "b-syntax", "def register(ext)\n    pass\n")
    write_extension(root, "c-good", GOOD, {"helper.py": "VALUE = 1\n"})
    with caplog.at_level(logging.ERROR):
        app = make(tmp_path)
    missing, syntax, good = (app.extensions.get(n) for n in ("a-missing-package", "b-syntax", "c-good"))
    assert missing.status == "failed"
    assert missing.error == "ModuleNotFoundError: No module named 'no_such_package_here' (extension.py, line 1)"
    assert syntax.status == "failed" and syntax.error.startswith("SyntaxError") and "extension.py, line 1" in syntax.error
    assert good.status == "loaded"
    assert "a-missing-package" in caplog.text and "no_such_package_here" in caplog.text
    assert not [m for m in sys.modules.values() if getattr(m, "__file__", None) == str(missing.path / "extension.py")]


def test_a_failing_register_is_rolled_back(tmp_path: Path) -> None:
    write_extension(tmp_path / "extensions", "half-done", """
        def register(ext):
            ext.registry.upscalers.register("Half upscaler", 1)
            ext.registry.api_routes.register("half-routes", lambda app: None)
            ext.on_model_loaded(lambda app, model: None)
            raise RuntimeError("the model server is not reachable")
    """)
    app = make(tmp_path)
    info = app.extensions.get("half-done")
    assert info.status == "failed" and info.registered == ()
    assert info.error == "RuntimeError: the model server is not reachable (extension.py, line 6)"
    assert "Half upscaler" not in app.registry.upscalers and "half-routes" not in app.registry.api_routes
    assert app.extensions.callbacks.of("model_loaded") == []


def test_exit_in_an_extension_does_not_stop_the_app(tmp_path: Path) -> None:
    write_extension(tmp_path / "extensions", "quitter", "import sys\nsys.exit(3)\n")
    info = make(tmp_path).extensions.get("quitter")
    assert info.status == "failed" and info.error.startswith("SystemExit: 3")


def test_a_name_two_extensions_register_is_refused_for_the_second(tmp_path: Path) -> None:
    root = tmp_path / "extensions"
    for name in ("first-ext", "second-ext"):
        write_extension(root, name, """
            def register(ext):
                ext.registry.upscalers.register("Shared name" if ext.name == "first-ext" else "shared NAME", ext.name)
                ext.registry.scripts.register("Only " + ext.name, ext.name)
        """)
    app = make(tmp_path)
    second = app.extensions.get("second-ext")
    assert second.status == "failed"
    expected = msg("registry_duplicate", kind="upscaler", name="shared NAME", source="first-ext", new_source="second-ext")
    assert second.error == f"{expected} (extension.py, line 3)"
    assert app.registry.upscalers.entry("shared name").source == "first-ext"
    assert "Only second-ext" not in app.registry.scripts and "Only first-ext" in app.registry.scripts


def test_a_core_name_cannot_be_taken_by_an_extension(tmp_path: Path) -> None:
    write_extension(tmp_path / "extensions", "thief", """
        def register(ext):
            ext.registry.tabs.register("txt2img", None)
    """)
    app = make(tmp_path)
    assert app.extensions.get("thief").status == "failed" and "(by core)" in app.extensions.get("thief").error
    assert app.registry.tabs.entry("txt2img").source == "core"


def test_folders_without_an_entry_or_register_and_same_names_across_folders(tmp_path: Path) -> None:
    root, other = tmp_path / "extensions", tmp_path / "more"
    (root / "no-entry").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "__pycache__").mkdir()
    write_extension(root, "no-register", "VALUE = 1\n")
    write_extension(root, "twice", "def register(ext):\n    pass\n")
    write_extension(other, "twice", "def register(ext):\n    pass\n")
    app = make(tmp_path, other)
    names = [(i.name, i.status) for i in app.extensions.found]
    assert names == [("no-entry", "failed"), ("no-register", "failed"), ("twice", "loaded"), ("twice", "failed")]
    assert app.extensions.found[0].error == msg("extension_no_entry", path=root / "no-entry")
    assert app.extensions.found[1].error.startswith(msg("extension_no_register", name="no-register"))
    assert app.extensions.found[3].error == msg("extension_same_name", name="twice", other=root / "twice",
                                                path=other / "twice")


def test_a_disabled_extension_is_listed_and_not_imported(tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    write_extension(tmp_path / "extensions", "sleeper",
                    f"from pathlib import Path\nPath({str(marker)!r}).write_text('x')\n\ndef register(ext):\n    pass\n")
    (tmp_path / "config.json").write_text(json.dumps({"disabled_extensions": ["Sleeper"]}))
    app = make(tmp_path)
    assert [(i.name, i.status) for i in app.extensions.found] == [("sleeper", "disabled")]
    assert not marker.exists()


def test_enabled_choice_is_kept_in_config_json_as_a1111_does(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"disabled_extensions": ["gone-ext"], "other_key": 1}))
    app = make(tmp_path)
    assert disabled_names(app.options) == ["gone-ext"]
    assert save_enabled(app.options, ["a-ext", "b-ext", "c-ext"], ["b-ext"]) == ["a-ext", "c-ext", "gone-ext"]
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["disabled_extensions"] == ["a-ext", "c-ext", "gone-ext"] and saved["other_key"] == 1
    assert disabled_names(make(tmp_path).options) == ["a-ext", "c-ext", "gone-ext"]
    (tmp_path / "config.json").write_text(json.dumps({"disabled_extensions": "not a list"}))
    assert disabled_names(make(tmp_path).options) == []


def test_a_failing_callback_is_logged_and_the_others_still_run(tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    app = make(tmp_path)
    seen: list[str] = []
    app.extensions.callbacks.add("app_started", lambda a: 1 / 0, "broken-ext")
    app.extensions.callbacks.add("app_started", lambda a: seen.append("ran"), "fine-ext")
    with caplog.at_level(logging.ERROR):
        assert app.extensions.callbacks.fire("app_started", app) == 1
    assert seen == ["ran"]
    assert msg("extension_callback_failed", name="broken-ext", event="app_started",
               error="ZeroDivisionError: division by zero") in caplog.text


def test_the_example_extension_loads_and_its_sampler_and_callbacks_work(make_app, tmp_path: Path,  # noqa: ANN001
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    from modules.generation.params import Txt2ImgParams
    from modules.generation.txt2img import run_txt2img
    from modules.samplers.registry import sampler_table

    log = tmp_path / "events.txt"
    write_extension(tmp_path / "extensions", "watcher", f"""
        from pathlib import Path

        def register(ext):
            def note(line):
                with open({str(log)!r}, "a") as f:
                    f.write(line + "\\n")
            ext.on_model_loaded(lambda app, model: note("loaded " + model.arch))
            ext.on_image_saved(lambda app, path, infotext: note("saved " + Path(path).name + " " + infotext.replace("\\n", " | ")))
    """)
    import shutil

    shutil.copytree(EXAMPLE, tmp_path / "extensions" / "extension-example")
    app = make_app(("sd1",))
    example = app.extensions.get("extension-example")
    assert example.status == "loaded", example.error
    assert example.registered == ("sampler: Euler (trailing)", "option: example_log_saved_images",
                                  "API route: example-info")
    assert sampler_table(app.registry).find_sampler("example_euler_trailing").name == "Euler (trailing)"
    assert app.options.get("example_log_saved_images") is False
    assert log.read_text().splitlines() == ["loaded sd1"]
    app.options.update({"example_log_saved_images": True})
    with caplog.at_level(logging.INFO, logger="extensions.extension-example"):
        result = run_txt2img(app, Txt2ImgParams(prompt="a cat", sampler_name="Euler (trailing)", width=64, height=64,
                                                steps=2, seed=5))
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and lines[1].startswith(f"saved {result.paths[0].name} a cat")
    assert "Sampler: Euler (trailing)" in lines[1] and "Sampler: Euler (trailing)" in result.infotexts[0]
    assert f"saved {result.paths[0]}" in caplog.text  # the example's own callback, its option being on


def test_extensions_dir_flags_add_folders_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from modules.cli import parse_settings

    write_extension(tmp_path / "one", "from-one", "def register(ext):\n    pass\n")
    write_extension(tmp_path / "two", "from-two", "def register(ext):\n    pass\n")
    write_extension(tmp_path / "data" / "extensions", "z-own", "def register(ext):\n    pass\n")
    monkeypatch.chdir(tmp_path)
    settings = parse_settings(["--data-dir", "data", "--extensions-dir", "two", "--extensions-dir", "one",
                               "--extensions-dir", "data/extensions", "--device", "cpu", "--no-demo-model"])
    assert settings.extensions_dirs == [tmp_path / "two", tmp_path / "one", tmp_path / "data" / "extensions"]
    app = build_app(settings)
    assert [(i.name, i.status) for i in app.extensions.found] == [
        ("z-own", "loaded"), ("from-two", "loaded"), ("from-one", "loaded")]
