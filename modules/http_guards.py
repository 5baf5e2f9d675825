"""ASGI guards in front of the whole server (page and API): the Host check and the slow-body timeout.

- HostCheck (against DNS rebinding): a page on another site can point its own DNS name at this
  machine, and the browser then sends that name as Host. Only the names the server was started for
  are answered: localhost, 127.0.0.1 and ::1; with --listen also any IP literal (a rebinding page
  always uses a DNS name, and an address the user typed is never one) and this machine's host name
  (socket.gethostname(), getfqdn(), <hostname>.local); plus the names of --allowed-hosts
  ('.example.org' also takes its subdomains, '*' turns the check off). The port in Host is ignored,
  and a request without Host (HTTP/1.0, never a browser) is answered. Others get a 400 saying to add
  the name with --allowed-hosts.
- SlowBodyGuard: while the app waits for more of the request body, a client that sends nothing for
  stall_timeout_s gets a 408 and the connection is closed, so a request that declares more body
  than it sends (or trickles it) cannot hold a connection and its handler forever.

Nothing here imports starlette or uvicorn: the guards speak plain ASGI.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modules.messages import msg

if TYPE_CHECKING:
    from modules.settings import Settings

log = logging.getLogger(__name__)

BODY_STALL_TIMEOUT_S = 30.0  # no request-body bytes for this long: 408 and the connection closes
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
ANY_HOST = "*"


def host_name(value: str) -> str:
    """The name part of a Host header or --allowed-hosts entry: lower case, without port, brackets or final dot."""
    text = value.strip().lower()
    if text.startswith("["):  # [::1]:7860
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # name:port (a bare IPv6 address has more colons)
        text = text.split(":", 1)[0]
    return text.rstrip(".")


def parse_allowed_hosts(text: str | None) -> list[str]:
    """--allowed-hosts 'a.lan,b.example:7860,*' -> ['a.lan', 'b.example', '*']."""
    names = [host_name(part) if part.strip() != ANY_HOST else ANY_HOST for part in (text or "").split(",")]
    return [name for name in names if name]


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


@dataclass(frozen=True)
class HostPolicy:
    """Which Host names are answered (see the module docstring)."""

    names: frozenset[str] = frozenset(LOOPBACK_NAMES)
    suffixes: tuple[str, ...] = ()  # '.example.org' entries of --allowed-hosts
    any_ip: bool = False  # --listen: every IP literal
    any_host: bool = False  # --allowed-hosts '*'
    shown: tuple[str, ...] = field(default=LOOPBACK_NAMES, compare=False)  # listed in the refusal

    def allows(self, host: str | None) -> bool:
        if self.any_host or not host:
            return True
        name = host_name(host)
        if name in self.names or any(name == s[1:] or name.endswith(s) for s in self.suffixes):
            return True
        address = _ip(name)
        return address is not None and (self.any_ip or address.is_loopback)


def machine_names() -> set[str]:
    """This machine's own host names (for --listen); empty where they cannot be read."""
    names: set[str] = set()
    try:
        hostname = socket.gethostname()
        names |= {hostname, f"{hostname.split('.')[0]}.local", socket.getfqdn()}
    except OSError:
        pass
    return {host_name(n) for n in names if n}


def host_policy(listen: bool, allowed: Iterable[str], own_names: Iterable[str] = ()) -> HostPolicy:
    allowed = list(allowed)
    extra = [n for n in allowed if n != ANY_HOST and not n.startswith(".")]
    names = {*LOOPBACK_NAMES, *(own_names if listen else ()), *extra}
    suffixes = tuple(n for n in allowed if n.startswith(".") and len(n) > 1)
    shown = (*LOOPBACK_NAMES, *(("any IP address",) if listen else ()), *sorted(names - set(LOOPBACK_NAMES)),
             *(f"*{s}" for s in suffixes))
    return HostPolicy(frozenset(names), suffixes, any_ip=listen, any_host=ANY_HOST in allowed, shown=shown)


def settings_host_policy(settings: Settings) -> HostPolicy:
    """The policy for a server started with these settings."""
    return host_policy(settings.listen, settings.allowed_hosts, machine_names() if settings.listen else ())


async def send_answer(send: Any, status: int, text: str, as_json: bool) -> None:
    """A whole response that also closes the connection: JSON {'error', 'detail'} or plain text."""
    if as_json:
        error = {400: "HostNotAllowed", 408: "RequestTimeout"}.get(status, "Error")
        data, kind = json.dumps({"error": error, "detail": text}).encode("utf-8"), b"application/json"
    else:
        data, kind = text.encode("utf-8"), b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(data)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": data})


def _wants_json(scope: dict[str, Any]) -> bool:
    return str(scope.get("path", "")).startswith(("/sdapi/", "/openapi.json"))


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return value.decode("latin-1")
    return None


class HostCheck:
    """ASGI middleware: requests (and websockets) whose Host the policy does not allow get a 400."""

    def __init__(self, app: Any, policy: HostPolicy) -> None:
        self.app, self.policy = app, policy

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = _header(scope, b"host")
        if self.policy.allows(host):
            await self.app(scope, receive, send)
            return
        name = host_name(host or "")[:100]
        log.info("refused a request for host name %r (see --allowed-hosts)", name)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        text = msg("host_not_allowed", host=name, allowed=", ".join(self.policy.shown))
        await send_answer(send, 400, text, _wants_json(scope))


class SlowBodyGuard:
    """ASGI middleware: a request body that stalls (no bytes for stall_timeout_s while the app waits for
    them) is answered 408 with Connection: close, and the app sees a disconnect. When the app has already
    started its answer, it only sees the disconnect and ends that answer itself."""

    def __init__(self, app: Any, stall_timeout_s: float = BODY_STALL_TIMEOUT_S) -> None:
        self.app, self.stall_timeout_s = app, stall_timeout_s

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = started = answered = False

        async def timed_receive() -> dict[str, Any]:
            nonlocal body_done, answered
            if answered:
                return {"type": "http.disconnect"}
            if body_done:  # e.g. a streaming answer listening for the client going away
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.stall_timeout_s)
            except TimeoutError:
                log.info("request body of %s %s stalled for %.0fs: closing", scope.get("method"), scope.get("path"),
                         self.stall_timeout_s)
                if not started:
                    answered = True
                    await send_answer(send, 408, msg("body_stalled", seconds=self.stall_timeout_s), _wants_json(scope))
                return {"type": "http.disconnect"}
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        async def watched_send(message: dict[str, Any]) -> None:
            nonlocal started
            if answered:
                return  # the 408 went out; what the app still says is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, timed_receive, watched_send)
        except Exception:  # noqa: BLE001 - after a 408 the app's complaint about the lost body is expected
            if not answered:
                raise
            log.debug("after a stalled body, %s %s ended with an error", scope.get("method"), scope.get("path"),
                      exc_info=True)
