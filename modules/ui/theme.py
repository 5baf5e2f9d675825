"""Look of the page: a Gradio theme with system fonts only (no font downloads) and a little CSS.

The page must not load anything from another host, so no GoogleFont and no LocalFont (whose
files Gradio may look for online when missing): only font names the browser already has.
"""

from __future__ import annotations

from typing import Any

SANS = ("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif")
MONO = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace")

CSS = """
.sd-generate { min-height: 5.5em; font-size: 1.1em; }
.sd-actions .sd-small-buttons button { min-width: 0; }
.sd-tool-button { max-width: 2.8em; min-width: 2.8em !important; flex-grow: 0 !important; align-self: end; }
.sd-progress-box { min-height: 2.2em; }
.sd-progress { position: relative; height: 1.9em; border-radius: 6px; overflow: hidden;
  background: var(--block-background-fill); border: 1px solid var(--border-color-primary); }
.sd-progress-bar { position: absolute; top: 0; left: 0; bottom: 0; background: var(--color-accent-soft);
  transition: width 0.3s linear; }
.sd-progress-text { position: relative; padding: 0 0.6em; line-height: 1.9em; font-size: 0.9em;
  font-variant-numeric: tabular-nums; white-space: nowrap; }
.sd-message-box, #sd_model_status { font-size: 0.9em; }
.sd-message-warning, .sd-message-error { border-left: 3px solid #d97706; padding-left: 0.6em; }
.sd-message-error { border-left-color: var(--error-border-color, #dc2626); color: var(--error-text-color, inherit); }
.sd-infotext textarea { font-family: var(--font-mono); font-size: 0.85em; }
.sd-token-counter-box { display: flex; justify-content: flex-end; margin-top: -0.4em; }
.sd-token-counter { font-size: 0.8em; opacity: 0.75; font-variant-numeric: tabular-nums; }
"""


def ui_theme() -> Any:
    """The Default theme with system font stacks (gradio is imported here, not at module import)."""
    import gradio as gr

    return gr.themes.Default(font=list(SANS), font_mono=list(MONO))
