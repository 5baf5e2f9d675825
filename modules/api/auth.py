"""Credentials for --gradio-auth / --gradio-auth-path / --api-auth, checked in constant time.

Format (A1111's): "user:pass" pairs separated by commas; in a file, also one pair per line. The
password may contain ':' (only the first one separates). Empty entries are ignored.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from modules.errors import UserError
from modules.messages import msg

if TYPE_CHECKING:
    from fastapi import Request

Credentials = list[tuple[str, str]]


def parse_credentials(text: str, source: str = "") -> Credentials:
    """'u1:p1,u2:p2' (commas and/or new lines) → [(u1, p1), (u2, p2)]; UserError on an entry without ':'."""
    pairs: Credentials = []
    for raw in text.replace("\n", ",").split(","):
        entry = raw.strip()
        if not entry:
            continue
        user, sep, password = entry.partition(":")
        if not sep or not user:
            raise UserError(msg("bad_auth_entry", source=source or "credentials"))
        pairs.append((user, password))
    return pairs


def read_credentials_file(path: Path) -> Credentials:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise UserError(msg("auth_file_unreadable", path=path, error=e.strerror or e)) from None
    return parse_credentials(text, source=str(path))


def check_credentials(pairs: Iterable[tuple[str, str]], user: str, password: str) -> bool:
    """Whether (user, password) is one of pairs. Every pair is compared, each in constant time."""
    ok = False
    given_user, given_password = user.encode("utf-8"), password.encode("utf-8")
    for known_user, known_password in pairs:
        same_user = hmac.compare_digest(given_user, known_user.encode("utf-8"))
        same_password = hmac.compare_digest(given_password, known_password.encode("utf-8"))
        ok |= same_user & same_password
    return ok


def checker(pairs: Credentials) -> Callable[[str, str], bool]:
    """check(user, password) for Gradio's login form."""
    frozen = list(pairs)
    return lambda user, password: check_credentials(frozen, user or "", password or "")


def basic_auth_user(request: Request, pairs: Credentials) -> str | None:
    """The user name of a valid HTTP Basic Authorization header, else None."""
    import base64
    import binascii

    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return user if check_credentials(pairs, user, password) else None
