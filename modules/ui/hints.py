"""Hover text (title) and accessible names (aria-label) for the icon-only buttons.

Gradio's Button has no tooltip, and an emoji is no name for a screen reader (nor visible where no emoji font
is installed). The texts live in modules/messages.py (keys "hint_<id suffix>") so a translation reaches them;
javascript/hints.js puts them on every button whose element id ends with a key's suffix.
"""

from __future__ import annotations

import json

from modules.messages import EN, msg

PREFIX = "hint_"


def button_hints() -> dict[str, str]:
    """Element id suffix -> text, e.g. {"random_seed": "Random seed (-1): ..."} (matches txt2img_random_seed)."""
    return {key.removeprefix(PREFIX): msg(key) for key in EN if key.startswith(PREFIX)}


def hints_script() -> str:
    """The <script> that hands the texts to javascript/hints.js."""
    data = json.dumps(button_hints()).replace("</", "<\\/")
    return f"<script>window.sdButtonHints = {data};</script>\n"
