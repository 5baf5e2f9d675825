"""Damaged model files in every folder never break the API (issue 25): they are listed as skipped with a
reason naming the file, a tag naming one gives a notice, a VAE override naming one is a 422, and the rest
of the app goes on. The headers here are valid JSON of the wrong shape, which used to escape the checks
(KeyError: 1 from data_offsets given as an object, RecursionError from a header nested 50,000 deep)."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import torch

from tests.api.helpers import SMALL, Served, make_data_dir, png_text, running_server

V1 = "/sdapi/v1"
DEEP = 50_000


def write_header(path: Path, header: str | dict, data: bytes = b"") -> Path:
    raw = (header if isinstance(header, str) else json.dumps(header)).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def offsets_as_object(path: Path) -> Path:
    return write_header(path, {"emb_params": {"dtype": "F32", "shape": [1, 4],
                                              "data_offsets": {"begin": 0, "end": 16}}}, bytes(16))


def deeply_nested(path: Path) -> Path:
    return write_header(path, '{"__metadata__": ' + '{"a": ' * DEEP + '"x"' + "}" * DEEP + "}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = make_data_dir(tmp_path_factory.mktemp("damaged"), ("tiny-a",))
    offsets_as_object(data / "embeddings" / "offsets.safetensors")
    deeply_nested(data / "models" / "Lora" / "deep.safetensors")
    write_header(data / "models" / "VAE" / "nested.safetensors",
                 {"decoder.conv_in.weight": {"dtype": "F32", "shape": [1], "data_offsets": [[0, 4], [4, 8]]}}, bytes(8))
    hypernetworks = data / "models" / "hypernetworks"
    hypernetworks.mkdir(parents=True)
    torch.save({768: [5, 6], 320: [{"linear.0.weight": 1}, {}]}, hypernetworks / "odd.pt")
    with running_server(data, "--nowebui") as served:
        yield served


@pytest.fixture
def client(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=120) as c:
        yield c


def _txt2img(client: httpx.Client, prompt: str, **extra: object) -> httpx.Response:
    return client.post(f"{V1}/txt2img", json={"prompt": prompt, "seed": 1, **SMALL, **extra})


def test_a_damaged_embedding_is_skipped_and_the_rest_works(client: httpx.Client, served: Served) -> None:
    r = _txt2img(client, "offsets cat")
    assert r.status_code == 200, r.text
    r = client.get(f"{V1}/embeddings")
    assert r.status_code == 200, r.text
    assert "offsets" in r.json()["skipped"]
    reason = served.app.networks.embeddings.skipped()["offsets"].reason
    assert "offsets.safetensors" in reason and "damaged" in reason
    for route in ("refresh-embeddings", "refresh-checkpoints"):
        assert client.post(f"{V1}/{route}").status_code == 200, route


def test_a_damaged_lora_is_listed_as_skipped_and_its_tag_is_not_used(client: httpx.Client, served: Served) -> None:
    r = client.get(f"{V1}/loras")
    assert r.status_code == 200, r.text
    assert [item["name"] for item in r.json()] == ["deep"]
    assert client.post(f"{V1}/refresh-loras").status_code == 200
    problem = served.app.networks.loras.find("deep").problem
    assert "deep.safetensors" in problem and "damaged" in problem
    from modules.ui.extra_networks import list_cards

    assert [card.detail for card in list_cards(served.app, "LoRA")] == [f"skipped: {problem}"]
    r = _txt2img(client, "cat <lora:deep:1>")
    assert r.status_code == 200, r.text
    assert "Lora hashes" not in png_text(r.json()["images"][0])
    offsets_as_object(served.data_dir / "models" / "Lora" / "late.safetensors")  # not listed yet: found by the tag
    r = _txt2img(client, "cat <lora:late:1>")
    assert r.status_code == 200, r.text
    assert "Lora hashes" not in png_text(r.json()["images"][0])
    assert "damaged" in served.app.networks.loras.find("late").problem


def test_a_damaged_hypernetwork_tag_is_not_used(client: httpx.Client) -> None:
    r = _txt2img(client, "cat <hypernet:odd:1>")
    assert r.status_code == 200, r.text


def test_a_damaged_vae_override_is_a_422(client: httpx.Client, served: Served) -> None:
    before = served.app.networks.vaes.selected
    r = _txt2img(client, "cat", override_settings={"sd_vae": "nested.safetensors"})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "nested.safetensors" in detail and "damaged" in detail, detail
    assert served.app.networks.vaes.selected == before
    assert _txt2img(client, "cat").status_code == 200
