"""The progress element: a bar plus the job's own text (step count, time left), as HTML."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modules.jobs import Progress


def progress_html(fraction: float, text: str) -> str:
    """A bar filled to fraction (0..1) with text over it."""
    percent = max(0.0, min(1.0, fraction)) * 100
    return (
        f'<div class="sd-progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" '
        f'aria-valuenow="{percent:.0f}">'
        f'<div class="sd-progress-bar" style="width: {percent:.1f}%"></div>'
        f'<div class="sd-progress-text">{html.escape(text)}</div></div>'
    )


def job_progress_html(progress: Progress) -> str:
    """The bar for a running job, from Progress.fraction() and Progress.text()."""
    return progress_html(progress.fraction(), progress.text())


def message_html(text: str, kind: str = "info") -> str:
    """A status/message line; the text is escaped (file names, prompts), empty text gives nothing."""
    if not text:
        return ""
    return f'<div class="sd-message sd-message-{kind}">{html.escape(text)}</div>'
