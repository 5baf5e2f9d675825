"""The scripts the app registers itself at start."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modules.registry import Registry


def register_core_scripts(registry: Registry) -> None:
    from modules.scripts.prompts_from_file import TITLE, PromptsFromFile

    registry.scripts.register(TITLE, PromptsFromFile())
