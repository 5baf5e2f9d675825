"""Fixtures for the UI tests: a data folder with a tiny sd1 checkpoint, headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """<tmp>/data with models/Stable-diffusion/tiny-sd1.safetensors."""
    from tests.tiny_models import write_tiny_checkpoint

    folder = tmp_path / "data"
    checkpoints = folder / "models" / "Stable-diffusion"
    checkpoints.mkdir(parents=True)
    write_tiny_checkpoint(checkpoints, "sd1", name="tiny-sd1")
    return folder


@pytest.fixture
def chromium_path() -> Path:
    """Debian's chromium; skipped when missing, except under CI=true where that is a failure."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; the browser tests must run under CI")
        pytest.skip(f"{CHROMIUM} is not installed")
    return CHROMIUM


@pytest.fixture
def browser_page(chromium_path: Path, tmp_path: Path) -> Iterator[object]:
    """A Playwright page in headless Chromium with its own profile folder."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1100},
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()
