"""The scripts the app registers itself at start (Prompt matrix, Prompts from file or textbox, X/Y/Z plot)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modules.registry import Registry


def register_core_scripts(registry: Registry) -> None:
    from modules.scripts.prompt_matrix import TITLE as MATRIX
    from modules.scripts.prompt_matrix import PromptMatrix
    from modules.scripts.prompts_from_file import TITLE, PromptsFromFile

    registry.scripts.register(MATRIX, PromptMatrix())
    registry.scripts.register(TITLE, PromptsFromFile())

    from modules.scripts.sd_upscale import TITLE as SD_UPSCALE
    from modules.scripts.sd_upscale import SdUpscale

    registry.scripts.register(SD_UPSCALE, SdUpscale(registry))  # its Upscaler choices: registry.upscalers

    from modules.xyz.plot import TITLE as XYZ_TITLE
    from modules.xyz.plot import XyzPlot

    registry.scripts.register(XYZ_TITLE, XyzPlot())
