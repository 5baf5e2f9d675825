"""Errors the user sees. Each carries a message that says what is wrong and what to do."""

from __future__ import annotations


class UserError(Exception):
    """An error whose message is meant for the user, shown as is in the UI and API."""


class InvalidParams(UserError):
    """A generation parameter is out of range or malformed."""


class ModelNotFound(UserError):
    """No checkpoint by that name, or no checkpoint at all."""


class CheckpointLoadError(UserError):
    """A checkpoint file could not be loaded: refused, corrupt or of an unknown architecture."""


class Interrupted(Exception):
    """Raised inside the denoising loop when the user pressed Interrupt."""


class JobCancelled(UserError):
    """A queued job was interrupted before it started; it never ran."""


class UnsafePath(UserError):
    """A file name from a request would leave its folder ('..', absolute path, symlink out, NUL byte)."""
