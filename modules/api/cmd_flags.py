"""GET /sdapi/v1/cmd-flags: the command-line flags the server runs with, as A1111 answers them.

A1111 answers its parsed argparse namespace: {flag dest: value}. Here every flag of the server's
parser (modules/cli.py build_parser) is answered by its dest with the value the running Settings
hold (so a flag given on the command line shows its value, the others their defaults). Paths are
strings; passwords (--gradio-auth, --api-auth) are never sent back, only whether they are set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modules.settings import Settings

SECRET_FLAGS = ("gradio_auth", "api_auth")
HIDDEN = "********"  # the answer for a secret flag that is set


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def cmd_flags(settings: Settings) -> dict[str, Any]:
    """{flag dest: value} for every flag of the server's parser, from settings."""
    from modules.cli import build_parser

    flags: dict[str, Any] = {}
    for action in build_parser()._actions:  # argparse has no public list of its arguments
        dest = action.dest
        if dest == "help":
            continue
        value: Any
        if dest == "no_demo_model":
            value = settings.demo_checkpoint is None
        elif hasattr(settings, dest):
            value = getattr(settings, dest)
        elif hasattr(settings, dest + "s"):  # a repeatable flag kept as a list: --ckpt-dir -> ckpt_dirs
            value = getattr(settings, dest + "s")
        else:
            value = action.default
        if dest in SECRET_FLAGS:
            value = HIDDEN if value else None
        flags[dest] = _plain(value)
    return flags
