"""Options: A1111 keys with checked values, kept in config.json across starts without losing foreign keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modules.errors import InvalidParams
from modules.options import Options


def test_values_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    options = Options(path)
    assert not path.exists()  # nothing written until something changes
    options.update({"CLIP_stop_at_last_layers": 2, "show_progress_type": "Full", "live_previews_enable": False})
    options.remember("sd_model_checkpoint", "model.safetensors [0123456789]")
    again = Options(path)
    assert again.get("CLIP_stop_at_last_layers") == 2 and again.param_defaults()["clip_skip"] == 2
    assert again.get("show_progress_type") == "Full" and again.get("live_previews_enable") is False
    assert again.get("sd_model_checkpoint") == "model.safetensors [0123456789]"
    assert not list(tmp_path.glob(".*.tmp"))  # written through a temp file renamed into place


def test_keys_of_other_programs_are_written_back_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    foreign = {"samples_format": "avif", "some_extension_setting": [1, 2], "CLIP_stop_at_last_layers": 3}
    path.write_text(json.dumps(foreign), encoding="utf-8")
    options = Options(path)
    assert options.get("CLIP_stop_at_last_layers") == 3
    assert options.get("samples_format") == "png"  # a format this version does not write: the default is used
    options.update({"emphasis": "No norm"})
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written["samples_format"] == "avif" and written["some_extension_setting"] == [1, 2]
    assert written["emphasis"] == "No norm" and written["CLIP_stop_at_last_layers"] == 3


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"\xff\xfe{}"])
def test_a_damaged_file_is_kept_aside_and_defaults_are_used(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(content)
    options = Options(path)
    assert options.get("CLIP_stop_at_last_layers") == 1
    assert "could not be read" in options.notice and (tmp_path / "config.json.bad").is_file()
    options.update({"CLIP_stop_at_last_layers": 2})
    assert json.loads(path.read_text(encoding="utf-8"))["CLIP_stop_at_last_layers"] == 2


def test_bad_values_in_the_file_fall_back_to_defaults_with_a_notice(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"CLIP_stop_at_last_layers": 99, "show_progress_type": "Magic"}), encoding="utf-8")
    options = Options(path)
    assert options.get("CLIP_stop_at_last_layers") == 1 and options.get("show_progress_type") == "Approx cheap"
    assert "CLIP_stop_at_last_layers" in options.notice and "show_progress_type" in options.notice


@pytest.mark.parametrize(("key", "value", "words"), [
    ("show_progress_type", "TAESD", "choose one of"),
    ("show_progress_every_n_steps", -5, "between"),
    ("show_progress_every_n_steps", "10", "cannot be set"),
    ("live_previews_enable", 1, "cannot be set"),
])
def test_app_options_are_checked_by_name(key: str, value: object, words: str) -> None:
    with pytest.raises(InvalidParams, match=words) as caught:
        Options().update({key: value})
    assert key in str(caught.value)


def test_an_unwritable_file_keeps_values_in_memory(tmp_path: Path) -> None:
    folder = tmp_path / "config.json"
    folder.mkdir()  # a folder where the file should be: writing fails
    options = Options(folder)
    options.update({"show_progress_every_n_steps": 3.0})
    assert options.get("show_progress_every_n_steps") == 3

