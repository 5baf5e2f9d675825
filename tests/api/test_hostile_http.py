"""Hostile model files reached through the API: a crafted pickle and a corrupt safetensors header are
refused with a clear 4xx, run nothing, and the loaded model stays; the server keeps serving."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import SMALL, Served, make_data_dir, running_server
from tests.unit.test_hostile_pickles import Reduce, zip_checkpoint

V1 = "/sdapi/v1"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    root = tmp_path_factory.mktemp("hostile")
    data = make_data_dir(root)
    marker = root / "ran"
    checkpoints = data / "models" / "Stable-diffusion"
    zip_checkpoint(checkpoints / "evil.ckpt", {"state_dict": Reduce(os.system, f"touch {marker}")})
    (checkpoints / "broken.safetensors").write_bytes((2**40).to_bytes(8, "little") + b"{not json")
    with running_server(data, "--nowebui", "--ckpt", str(checkpoints / "tiny-sd1.safetensors")) as served:
        yield served, marker


def test_crafted_and_corrupt_checkpoints_are_refused_and_the_model_stays(hostile: tuple[Served, Path]) -> None:
    served, marker = hostile
    with httpx.Client(base_url=served.url, timeout=60) as c:
        names = [m["model_name"] for m in c.get(f"{V1}/sd-models").json()]
        assert {"evil", "broken", "tiny-sd1"} <= set(names)
        r = c.post(f"{V1}/options", json={"sd_model_checkpoint": "evil.ckpt"})
        assert r.status_code == 422 and "not allowed" in r.json()["detail"] and "previous model stays" in r.json()["detail"]
        r = c.post(f"{V1}/options", json={"sd_model_checkpoint": "broken.safetensors"})
        assert r.status_code == 422 and "damaged or incomplete" in r.json()["detail"]
        r = c.post(f"{V1}/txt2img", json={"prompt": "x", "override_settings": {"sd_model_checkpoint": "evil"}, **SMALL})
        assert r.status_code == 422 and "not allowed" in r.json()["detail"]
        assert c.get(f"{V1}/options").json()["sd_model_checkpoint"].startswith("tiny-sd1.safetensors")
        r = c.post(f"{V1}/txt2img", json={"prompt": "x", "seed": 1, **SMALL})
        assert r.status_code == 200 and "Model: tiny-sd1" in r.json()["info"]
    assert not marker.exists(), "the crafted pickle ran code"
    assert not served.app.jobs.busy
