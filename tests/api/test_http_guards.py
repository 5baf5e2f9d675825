"""The guards in front of the whole server (modules/http_guards.py, modules/api/service.py ApiGuard), on a
real server with the page and the API: slow or lying request bodies get an answer and the connection
closes; a Host the server was not started for (DNS rebinding) is refused on the page and the API."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import Served, make_data_dir, running_server

V1 = "/sdapi/v1"
STALL_S = 1.0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    import modules.http_guards

    data = make_data_dir(tmp_path_factory.mktemp("guards"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(modules.http_guards, "BODY_STALL_TIMEOUT_S", STALL_S)
        with running_server(data, "--api", "--allowed-hosts", "sd.example.org:7860,.lan.example") as server:
            yield server


def _port(served: Served) -> int:
    return int(served.url.rsplit(":", 1)[1])


def _send_head(served: Served, method: str, path: str, length: int, body: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", _port(served)), timeout=10)
    sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {length}\r\n\r\n".encode() + body)
    return sock


def _read_until_closed(sock: socket.socket, limit_s: float) -> tuple[bytes, float, float]:
    """(everything the server sent, seconds to its first bytes, seconds until it closed the connection)."""
    started, first, data = time.monotonic(), None, b""
    sock.settimeout(limit_s)
    with sock:
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                pytest.fail(f"no answer or no close within {limit_s}s; got {data[:200]!r}")
            except ConnectionResetError:
                break
            if not chunk:
                break
            first = first if first is not None else time.monotonic() - started
            data += chunk
    return data, first if first is not None else -1.0, time.monotonic() - started


@pytest.mark.parametrize("path", [f"{V1}/txt2img", f"{V1}/options", "/gradio_api/queue/join"])
def test_a_declared_oversize_body_gets_413_at_once_and_the_connection_closes(served: Served, path: str) -> None:
    sock = _send_head(served, "POST", path, 99_999_999_999, b"{}")
    data, first, closed = _read_until_closed(sock, limit_s=STALL_S + 8)
    if path.startswith(V1):
        assert data.startswith(b"HTTP/1.1 413") and b"larger than 64 MB" in data, data[:300]
        assert first < STALL_S / 2, f"the 413 took {first:.1f}s"
    else:  # the page's routes have no size limit of their own: the stalled body ends the request
        assert data.startswith(b"HTTP/1.1 408"), data[:300]
    assert closed < STALL_S + 5, f"the connection stayed open {closed:.1f}s"


@pytest.mark.parametrize("path", [f"{V1}/txt2img", f"{V1}/options", "/gradio_api/queue/join",
                                  "/gradio_api/run/predict"])
def test_a_stalled_body_gets_408_and_the_connection_closes(served: Served, path: str) -> None:
    sock = _send_head(served, "POST", path, 200, b'{"prompt": ')
    data, first, closed = _read_until_closed(sock, limit_s=STALL_S + 8)
    assert data.startswith(b"HTTP/1.1 408"), data[:300]
    assert b"stopped arriving" in data and b"connection: close" in data.lower(), data[:300]
    assert STALL_S * 0.9 <= first < STALL_S + 4 and closed < STALL_S + 5, (first, closed)


def test_the_server_keeps_serving_after_lying_bodies(served: Served) -> None:
    socks = [_send_head(served, "POST", f"{V1}/png-info", 1000, b"{") for _ in range(5)]
    r = httpx.get(f"{served.url}{V1}/sd-models", timeout=10)
    assert r.status_code == 200 and r.json()
    assert httpx.post(f"{served.url}{V1}/png-info", json={"image": ""}, timeout=10).status_code == 200
    for sock in socks:
        data, _first, _closed = _read_until_closed(sock, limit_s=STALL_S + 8)
        assert data.startswith(b"HTTP/1.1 408"), data[:200]


@pytest.mark.parametrize("path", ["/", f"{V1}/options", "/docs", "/gradio_api/info"])
@pytest.mark.parametrize("host", ["evil.example", "evil.example:7860", "localhost.evil.example", "127.0.0.1.nip.io",
                                  "10.1.2.3"])
def test_a_host_the_server_was_not_started_for_is_refused(served: Served, path: str, host: str) -> None:
    r = httpx.get(served.url + path, headers={"Host": host}, timeout=10)
    assert r.status_code == 400, r.text[:200]
    text = r.json()["detail"] if path.startswith(V1) else r.text
    assert "--allowed-hosts" in text and host.split(":")[0] in text, text


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:{port}", "localhost", "LOCALHOST:{port}", "[::1]:{port}",
                                  "sd.example.org", "sd.example.org:80", "lan.example", "box.lan.example:{port}"])
def test_loopback_names_and_allowed_hosts_are_answered(served: Served, host: str) -> None:
    host = host.format(port=_port(served))
    for path in ("/", f"{V1}/options"):
        r = httpx.get(served.url + path, headers={"Host": host}, timeout=10)
        assert r.status_code == 200, (path, host, r.text[:200])


def test_host_policy_rules() -> None:
    from modules.cli import parse_settings
    from modules.http_guards import host_policy, parse_allowed_hosts, settings_host_policy
    from modules.settings import Settings

    local = host_policy(listen=False, allowed=[])
    assert all(local.allows(h) for h in ("localhost", "127.0.0.1:7860", "[::1]:7860", "localhost.", "127.0.0.2", None))
    assert not any(local.allows(h) for h in ("evil.example", "192.168.1.5", "[fe80::1]:7860", "my-box", "a b"))
    shared = host_policy(listen=True, allowed=[], own_names=["my-box", "my-box.local"])
    assert all(shared.allows(h) for h in ("192.168.1.5:7860", "[fe80::1]:7860", "my-box:7860", "MY-BOX.local"))
    assert not shared.allows("evil.example") and not shared.allows("my-box.evil.example")
    named = host_policy(listen=False, allowed=parse_allowed_hosts(" sd.lan:7860, .home.arpa ,"))
    assert named.allows("sd.lan") and named.allows("pc.home.arpa:443") and named.allows("home.arpa")
    assert not named.allows("sd.lan.evil.example") and not named.allows("evilhome.arpa")
    anything = host_policy(listen=False, allowed=parse_allowed_hosts("*"))
    assert anything.allows("evil.example")
    assert parse_settings(["--allowed-hosts", "A.example:80,*"]).allowed_hosts == ["a.example", "*"]
    listening, local_only = settings_host_policy(Settings(listen=True)), settings_host_policy(Settings())
    assert listening.allows(f"{socket.gethostname()}:7860") and listening.allows("192.168.1.5")
    assert not local_only.allows("192.168.1.5") and not local_only.allows("my-box.evil.example")
    assert parse_settings([]).allowed_hosts == []


def test_allowed_hosts_star_turns_the_check_off(tmp_path: Path) -> None:
    with running_server(make_data_dir(tmp_path), "--nowebui", "--allowed-hosts", "*") as server:
        r = httpx.get(f"{server.url}{V1}/sd-models", headers={"Host": "anything.example"}, timeout=10)
        assert r.status_code == 200 and r.json()
