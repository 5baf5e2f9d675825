"""The settings over the API: GET /cmd-flags, the new option keys through GET/POST /options, a request's
override_settings choosing the saved format, and folder options locked on a shared server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modules.generation.outputs import read_png_infotext
from tests.api.helpers import SMALL, Served, make_data_dir, running_server

V1 = "/sdapi/v1"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = make_data_dir(tmp_path_factory.mktemp("settings-api"))
    with running_server(data, "--nowebui", "--api-auth", "me:secret", "--ckpt-dir", str(data / "more")) as server:
        yield server


@pytest.fixture
def client(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=120, auth=("me", "secret")) as c:
        yield c


def test_cmd_flags_answers_every_flag_by_its_dest(client: httpx.Client, served: Served) -> None:
    flags = client.get(f"{V1}/cmd-flags").json()
    assert flags["data_dir"] == str(served.data_dir.resolve()) and flags["nowebui"] is True
    assert flags["ckpt_dir"] == [str((served.data_dir / "more").resolve())]
    assert flags["device"] == "cpu" and flags["listen"] is False and flags["no_demo_model"] is True
    assert flags["api_auth"] == "********" and flags["gradio_auth"] is None  # set or not, never the password
    assert "secret" not in json.dumps(flags)


def test_new_option_keys_are_served_checked_and_saved(client: httpx.Client, served: Served) -> None:
    options = client.get(f"{V1}/options").json()
    assert (options["samples_format"], options["jpeg_quality"], options["outdir_txt2img_samples"]) == \
        ("png", 80, "outputs/txt2img-images")
    assert options["samples_filename_pattern"] == "" and options["grid_save"] is True
    r = client.post(f"{V1}/options", json={"samples_format": "gif"})
    assert r.status_code == 422 and "samples_format" in r.text and "png, jpg, webp" in r.text
    try:
        r = client.post(f"{V1}/options", json={"samples_format": "webp", "samples_filename_pattern": "[seed]-[steps]"})
        assert r.status_code == 200, r.text
        assert client.get(f"{V1}/options").json()["samples_format"] == "webp"
        saved = json.loads((served.data_dir / "config.json").read_text(encoding="utf-8"))
        assert saved["samples_filename_pattern"] == "[seed]-[steps]"
        r = client.post(f"{V1}/txt2img", json={"prompt": "a fox", "seed": 9, "save_images": True, **SMALL,
                                               "override_settings": {"samples_format": "jpg"}})
        assert r.status_code == 200, r.text
        files = list((served.data_dir / "outputs" / "txt2img-images").rglob("*-9-2.*"))
        assert [f.suffix for f in files] == [".jpg"]  # the request's override wins over the option (webp)
        assert read_png_infotext(files[0]).startswith("a fox\n")
    finally:
        client.post(f"{V1}/options", json={"samples_format": "png", "samples_filename_pattern": ""})


def test_folder_options_are_refused_on_a_shared_server(client: httpx.Client, served: Served) -> None:
    served.app.settings.listen = True
    try:
        r = client.post(f"{V1}/options", json={"outdir_samples": "/tmp/anywhere", "jpeg_quality": 70})
        assert r.status_code == 403 and "outdir_samples" in r.text and "--enable-insecure-extension-access" in r.text
        assert client.get(f"{V1}/options").json()["jpeg_quality"] == 80  # nothing changed
        assert client.post(f"{V1}/options", json={"jpeg_quality": 70}).status_code == 200
    finally:
        served.app.settings.listen = False
        client.post(f"{V1}/options", json={"jpeg_quality": 80})


def test_data_dir_is_where_relative_output_folders_start(client: httpx.Client, served: Served) -> None:
    assert client.post(f"{V1}/options", json={"outdir_txt2img_samples": "mine"}).status_code == 200
    try:
        r = client.post(f"{V1}/txt2img", json={"prompt": "a fox", "seed": 3, "save_images": True, **SMALL})
        assert r.status_code == 200, r.text
        assert [p.name for p in Path(served.data_dir / "mine").rglob("*.png")] == ["00000-3.png"]
    finally:
        client.post(f"{V1}/options", json={"outdir_txt2img_samples": "outputs/txt2img-images"})
