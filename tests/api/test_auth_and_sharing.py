"""Shared use over real HTTP: UI log-in, API Basic auth on every route, per-user jobs, file routes.

One server with the page and the API (--api), --gradio-auth alice:wonder plus bob:builder from a
--gradio-auth-path file, and --api-auth carol:secret,dave:pw.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from modules.api.auth import check_credentials, parse_credentials
from modules.errors import UserError
from tests.api.helpers import SMALL, Served, make_data_dir, running_server

V1 = "/sdapi/v1"
CAROL, DAVE = ("carol", "secret"), ("dave", "pw")
API_ROUTES = [("GET", "/sd-models"), ("GET", "/sd-vae"), ("GET", "/samplers"), ("GET", "/schedulers"),
              ("GET", "/upscalers"), ("GET", "/loras"), ("GET", "/embeddings"), ("GET", "/hypernetworks"),
              ("GET", "/prompt-styles"), ("GET", "/options"), ("GET", "/progress"), ("GET", "/memory"),
              ("POST", "/interrupt"), ("POST", "/skip"), ("POST", "/refresh-checkpoints"),
              ("POST", "/refresh-loras"), ("POST", "/png-info"), ("POST", "/txt2img"), ("POST", "/options")]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("shared")
    data = make_data_dir(root)
    users = root / "users.txt"
    users.write_text("bob:builder\n", encoding="utf-8")
    (root / "secret.txt").write_text("TOP SECRET")
    outputs = data / "outputs"
    outputs.mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(outputs / "ok.png")
    os.symlink(root / "secret.txt", outputs / "link.png")
    with running_server(data, "--api", "--gradio-auth", "alice:wonder", "--gradio-auth-path", str(users),
                        "--api-auth", "carol:secret,dave:pw") as served:
        yield served


def call(client: httpx.Client, method: str, route: str, auth: tuple[str, str] | None) -> httpx.Response:
    body = {"prompt": "x", "seed": 1, **SMALL} if route == "/txt2img" else ({"image": ""} if route == "/png-info" else {})
    kwargs = {"json": body} if method == "POST" else {}
    return client.request(method, V1 + route, auth=auth, **kwargs)


@pytest.mark.parametrize(("method", "route"), API_ROUTES)
def test_every_api_route_needs_the_api_credentials(shared: Served, method: str, route: str) -> None:
    with httpx.Client(base_url=shared.url, timeout=60) as c:
        for auth in (None, ("carol", "wrong"), ("mallory", "secret"), ("alice", "wonder"), ("carol", "")):
            r = call(c, method, route, auth)
            assert r.status_code == 401, f"{method} {route} with {auth}: {r.status_code}"
            assert r.headers["www-authenticate"] == "Basic"
        assert call(c, method, route, CAROL).status_code == 200, route
        assert c.get(V1 + "/sd-models", headers={"Authorization": "Basic !!!"}).status_code == 401


def test_docs_and_schema_need_the_api_credentials(shared: Served) -> None:
    with httpx.Client(base_url=shared.url, timeout=30) as c:
        for path in ("/docs", "/openapi.json"):
            assert c.get(path).status_code == 401
            assert c.get(path, auth=DAVE).status_code == 200


def test_the_page_needs_a_login_and_accepts_both_sources_of_users(shared: Served) -> None:
    for user, password in (("alice", "wonder"), ("bob", "builder")):
        with httpx.Client(base_url=shared.url, timeout=30) as c:
            for path in ("/config", "/gradio_api/info", "/gradio_api/queue/status", "/gradio_api/file=" +
                         str(shared.data_dir / "outputs" / "ok.png")):
                assert c.get(path).status_code == 401, path
            assert c.post("/login", data={"username": user, "password": "nope"}).status_code == 400
            assert c.post("/login", data={"username": "carol", "password": "secret"}).status_code == 400
            assert c.post("/login", data={"username": user, "password": password}).status_code == 200
            assert c.get("/config").status_code == 200


def test_file_routes_never_leave_the_outputs_folder(shared: Served) -> None:
    outputs = shared.data_dir / "outputs"
    with httpx.Client(base_url=shared.url, timeout=30) as c:
        assert c.post("/login", data={"username": "alice", "password": "wonder"}).status_code == 200
        assert c.get(f"/gradio_api/file={outputs}/ok.png").status_code == 200
        for target in (f"{outputs}/../../secret.txt", f"{outputs}/%2e%2e/%2e%2e/secret.txt", f"{outputs}/link.png",
                       "/etc/passwd", f"{outputs.parent.parent}/secret.txt", f"{outputs}/ok.png%00.txt"):
            r = c.get(f"/gradio_api/file={target}")
            assert r.status_code in (400, 403, 404), target
            assert b"TOP SECRET" not in r.content and b"root:" not in r.content


def test_api_users_see_and_stop_only_their_own_jobs(shared: Served) -> None:
    answer: dict[str, httpx.Response] = {}
    body = {"prompt": "carol's", "seed": 1, "width": 64, "height": 64, "steps": 150, "n_iter": 20,
            "force_task_id": "carol-1"}
    with httpx.Client(base_url=shared.url, timeout=120) as c:
        worker = threading.Thread(target=lambda: answer.update(r=c.post(V1 + "/txt2img", json=body, auth=CAROL)))
        worker.start()
        try:
            deadline = time.monotonic() + 60
            while c.get(V1 + "/progress", auth=CAROL).json()["state"]["sampling_step"] == 0:
                assert time.monotonic() < deadline, "carol's job did not start"
                time.sleep(0.05)
            assert c.get(V1 + "/progress", params={"id_task": "carol-1"}, auth=DAVE).status_code == 404
            assert c.get(V1 + "/progress", auth=DAVE).json()["state"]["job"] == "", "dave sees nothing running"
            c.post(V1 + "/interrupt", auth=DAVE)
            c.post(V1 + "/interrupt", params={"id_task": "carol-1"}, auth=DAVE)
            state = c.get(V1 + "/progress", params={"id_task": "carol-1"}, auth=CAROL).json()["state"]
            step, job_no = state["sampling_step"], state["job_no"]
            deadline = time.monotonic() + 30  # the job goes on: wait for its next step (slow CPUs take a while)
            while True:
                later = c.get(V1 + "/progress", params={"id_task": "carol-1"}, auth=CAROL).json()["state"]
                assert later["status"] == "running" and not later["interrupted"]
                if later["sampling_step"] > step or later["job_no"] > job_no:
                    break
                assert time.monotonic() < deadline, "dave's interrupt did nothing"
                time.sleep(0.1)
        finally:
            c.post(V1 + "/interrupt", auth=CAROL)  # never leave carol's long job running for later tests
            worker.join(60)
    assert answer["r"].status_code == 200 and '"interrupted": true' in answer["r"].json()["info"]


def test_credentials_parsing_and_checking(tmp_path: Path) -> None:
    assert parse_credentials("a:b, c:d:e ,\n f: ") == [("a", "b"), ("c", "d:e"), ("f", "")]
    for bad in ("nocolon", ":pass", "a:b,oops"):
        with pytest.raises(UserError, match="user:password"):
            parse_credentials(bad, "--gradio-auth")
    pairs = [("a", "b"), ("c", "d:e")]
    assert check_credentials(pairs, "c", "d:e") and check_credentials(pairs, "a", "b")
    assert not check_credentials(pairs, "a", "d:e") and not check_credentials(pairs, "a", "") and \
        not check_credentials([], "a", "b") and not check_credentials(pairs, "ä", "b")


def test_bad_auth_flags_stop_the_start_with_a_message(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from modules.app import build_app
    from modules.cli import parse_settings
    from modules.server import serve

    for flags in (["--gradio-auth", "nocolon"], ["--gradio-auth-path", str(tmp_path / "missing.txt")],
                  ["--api", "--api-auth", "x"]):
        app = build_app(parse_settings(["--data-dir", str(tmp_path), "--device", "cpu", *flags]))
        assert serve(app, on_ready=lambda: pytest.fail("must not start")) == 2
    assert "user:password" in caplog.text and "missing.txt" in caplog.text


def test_listen_keeps_extensions_locked_unless_allowed() -> None:
    from modules.cli import parse_settings

    assert parse_settings([]).extensions_allowed
    assert not parse_settings(["--listen"]).extensions_allowed
    assert parse_settings(["--listen", "--enable-insecure-extension-access"]).extensions_allowed
    assert parse_settings(["--nowebui"]).port == 7861 and parse_settings(["--nowebui", "--port", "9"]).port == 9
