"""A1111's "Override settings": infotext keys that record a setting, read into option values."""

from __future__ import annotations

import pytest

from modules.errors import InvalidParams
from modules.generation.infotext import parse_infotext
from modules.generation.override_settings import Override, differing, options_from_labels, overrides_in_infotext

ZTSNR_INFOTEXT = ("a red circle\nSteps: 20, Sampler: Euler a, Schedule type: Karras, CFG scale: 7, Seed: 1, "
                  "Size: 64x64, Noise Schedule: Zero Terminal SNR, Version: v1.10.1")


def test_an_infotext_setting_becomes_an_override_with_a1111s_label() -> None:
    found, notes = overrides_in_infotext(parse_infotext(ZTSNR_INFOTEXT))
    assert found == [Override("Noise Schedule", "sd_noise_schedule", "Zero Terminal SNR")] and notes == []
    assert found[0].label == "Noise Schedule: Zero Terminal SNR"
    assert overrides_in_infotext(parse_infotext("a cat\nSteps: 4, Seed: 1")) == ([], [])


def test_a_value_this_version_does_not_know_is_left_out_with_a_note() -> None:
    found, notes = overrides_in_infotext(parse_infotext("a cat\nSteps: 4, Seed: 1, Noise Schedule: Cosine"))
    assert found == [] and len(notes) == 1
    assert "Noise Schedule: Cosine" in notes[0] and "Zero Terminal SNR" in notes[0]


def test_only_overrides_that_change_something_are_kept() -> None:
    found, _ = overrides_in_infotext(parse_infotext(ZTSNR_INFOTEXT))
    assert differing(found, {"sd_noise_schedule": "Default"}) == found
    assert differing(found, {"sd_noise_schedule": "Zero Terminal SNR"}) == []


def test_labels_read_back_into_option_values() -> None:
    assert options_from_labels(["Noise Schedule: Zero Terminal SNR"]) == {"sd_noise_schedule": "Zero Terminal SNR"}
    assert options_from_labels([]) == options_from_labels(None) == {}
    with pytest.raises(InvalidParams, match="Model hash: abc"):
        options_from_labels(["Model hash: abc"])
    with pytest.raises(InvalidParams, match="Cosine"):
        options_from_labels(["Noise Schedule: Cosine"])
