"""GET /sdapi/v1/extensions and the routes extensions add, over real HTTP against a --nowebui --api-auth
server whose data folder holds the example extension, a git clone, a disabled and a broken extension."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import httpx
import pytest

from tests.api.helpers import Served, make_data_dir, running_server
from tests.extension_kit import EXAMPLE, git_repository, write_extension

V1 = "/sdapi/v1"
AUTH = ("erin", "pw")
STARTED = """
from pathlib import Path

def register(ext):
    ext.on_app_started(lambda app: (ext.path / "started.txt").write_text(app.settings.host))
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, str]]:
    root = tmp_path_factory.mktemp("extensions-api")
    data = make_data_dir(root)
    extensions = data / "extensions"
    shutil.copytree(EXAMPLE, extensions / "extension-example")
    commit = git_repository(root / "repo", STARTED)
    shutil.copytree(root / "repo", extensions / "cloned")
    write_extension(extensions, "off", "def register(ext):\n    raise AssertionError('never called')\n")
    write_extension(extensions, "zz-broken", "raise ImportError('missing dependency')\n")
    (data / "config.json").write_text(json.dumps({"disabled_extensions": ["off"]}))
    with running_server(data, "--nowebui", "--api-auth", ":".join(AUTH)) as server:
        yield server, commit


def test_extensions_lists_every_extension_in_a1111_shape(served: tuple[Served, str]) -> None:
    server, commit = served
    answer = httpx.get(server.url + V1 + "/extensions", auth=AUTH)
    assert answer.status_code == 200
    items = {item["name"]: item for item in answer.json()}
    assert list(items) == ["cloned", "extension-example", "off", "zz-broken"]
    for item in items.values():
        assert set(item) == {"name", "remote", "branch", "commit_hash", "version", "commit_date", "enabled"}
    cloned = items["cloned"]
    assert (cloned["commit_hash"], cloned["version"], cloned["branch"]) == (commit, commit[:8], "main")
    assert isinstance(cloned["commit_date"], int) and cloned["enabled"] is True
    assert items["extension-example"] == {"name": "extension-example", "remote": None, "branch": None,
                                          "commit_hash": "", "version": "", "commit_date": None, "enabled": True}
    assert items["off"]["enabled"] is False and items["zz-broken"]["enabled"] is True


def test_an_extensions_route_answers_behind_the_same_auth(served: tuple[Served, str]) -> None:
    server, _ = served
    answer = httpx.get(server.url + V1 + "/example/info", auth=AUTH)
    assert answer.status_code == 200
    assert answer.json() == {"extension": "extension-example", "sampler": "Euler (trailing)", "log_saved_images": False}
    assert httpx.get(server.url + V1 + "/example/info").status_code == 401
    assert httpx.get(server.url + V1 + "/extensions").status_code == 401


def test_the_example_sampler_is_listed_and_app_started_fired(served: tuple[Served, str]) -> None:
    server, _ = served
    names = [s["name"] for s in httpx.get(server.url + V1 + "/samplers", auth=AUTH).json()]
    assert "Euler (trailing)" in names
    assert (server.data_dir / "extensions" / "cloned" / "started.txt").read_text() == "127.0.0.1"
    assert server.app.extensions.get("zz-broken").status == "failed"


def test_a_route_factory_that_fails_is_left_out_and_the_rest_is_served(tmp_path_factory: pytest.TempPathFactory,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from modules.api.service import install_api
    from modules.app import build_app
    from modules.settings import Settings

    data = tmp_path_factory.mktemp("route-factory")
    write_extension(data / "extensions", "bad-routes", """
        def register(ext):
            ext.registry.api_routes.register("bad", lambda app: 1 / 0)
    """)
    app = build_app(Settings(data_dir=data, device="cpu", demo_checkpoint=None, nowebui=True))
    http_app = FastAPI()
    install_api(http_app, app)
    assert "API routes 'bad' (from bad-routes) could not be added" in caplog.text
    with TestClient(http_app) as client:
        assert [e["name"] for e in client.get(V1 + "/extensions").json()] == ["bad-routes"]
