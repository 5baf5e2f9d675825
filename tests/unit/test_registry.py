"""The registry's sections: names case-insensitive, duplicates refused unless replaced, lists ordered."""

from __future__ import annotations

import threading

import pytest

from modules.registry import CORE, Registry, RegistryError, Section


def test_register_and_look_up_case_insensitively() -> None:
    section: Section[int] = Section("sampler")
    section.register("DPM++ 2M", 1)
    assert section.get("dpm++ 2m") == 1
    assert "DPM++ 2M" in section and "Euler" not in section
    assert section.entry("DPM++ 2M").source == CORE  # type: ignore[union-attr]
    assert section.get("Euler") is None


def test_a_duplicate_name_is_refused_naming_both_sources() -> None:
    section: Section[int] = Section("script")
    section.register("X/Y/Z plot", 1)
    with pytest.raises(RegistryError, match="already registered.*core.*my-ext"):
        section.register("x/y/z PLOT", 2, source="my-ext")
    assert section.get("X/Y/Z plot") == 1
    section.register("X/Y/Z plot", 3, source="my-ext", replace=True)
    assert section.get("X/Y/Z plot") == 3 and section.entry("X/Y/Z plot").source == "my-ext"  # type: ignore[union-attr]


def test_empty_names_are_refused() -> None:
    with pytest.raises(RegistryError, match="needs a name"):
        Section("tab").register("  ", 1)


def test_entries_are_sorted_by_order_then_registration_and_replacing_keeps_the_place() -> None:
    section: Section[str] = Section("tab")
    section.register("b", "b")
    section.register("a", "a")
    section.register("z", "z", order=-1)
    section.register("b", "b2", replace=True)
    assert section.names() == ["z", "b", "a"]
    assert section.items() == ["z", "b2", "a"]
    assert section.unregister("b") and not section.unregister("b")
    assert section.names() == ["z", "a"] and len(section) == 2


def test_concurrent_registrations_all_land() -> None:
    section: Section[int] = Section("option")
    threads = [threading.Thread(target=lambda i=i: [section.register(f"o{i}-{j}", j) for j in range(200)])
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(section) == 800


def test_every_registry_has_its_own_sections() -> None:
    one, two = Registry(), Registry()
    one.samplers.register("Euler", object())
    assert "Euler" not in two.samplers
    assert set(one.sections()) == {"samplers", "schedules", "networks", "upscalers", "scripts", "tabs", "options",
                                   "api_routes", "xyz_axes"}
