"""Load: 8 clients at once over loopback, each with its own prompt and seed, for a bounded time.

Every answer must carry its own images (checked through the PNG infotext and the info JSON), every
image must be on disk exactly once (save_images), and meanwhile /progress keeps answering.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from PIL import Image

from tests.api.helpers import SMALL, Served, make_data_dir, png_text, running_server

CLIENTS = 8
BOUND_S = 90.0


@pytest.fixture(scope="module")
def load_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with running_server(make_data_dir(tmp_path_factory.mktemp("load")), "--nowebui") as served:
        yield served


def test_eight_concurrent_clients_each_get_their_own_images(load_server: Served) -> None:
    url = load_server.url + "/sdapi/v1"
    start = time.monotonic()
    barrier = threading.Barrier(CLIENTS)
    polling = threading.Event()
    progress_answers: list[int] = []
    poll_errors: list[BaseException] = []

    def poll() -> None:
        try:
            with httpx.Client(timeout=10) as c:
                while not polling.is_set():
                    progress_answers.append(c.get(f"{url}/progress").status_code)
                    time.sleep(0.05)
        except BaseException as e:  # noqa: BLE001 - checked below: a dead poller must fail the test
            poll_errors.append(e)

    def one_client(i: int) -> tuple[int, dict]:
        body = {"prompt": f"client {i} paints a boat", "seed": 1000 + i * 7, "save_images": True, **SMALL}
        with httpx.Client(timeout=BOUND_S) as c:
            barrier.wait(10)
            r = c.post(f"{url}/txt2img", json=body)
        assert r.status_code == 200, r.text
        return i, r.json()

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = list(pool.map(one_client, range(CLIENTS)))
    finally:
        polling.set()
        poller.join(10)
    elapsed = time.monotonic() - start
    assert elapsed < BOUND_S, f"8 jobs took {elapsed:.1f}s"

    expected = set()
    for i, body in answers:
        seed, prompt = 1000 + i * 7, f"client {i} paints a boat"
        expected.add((prompt, seed))
        assert len(body["images"]) == 1
        text = png_text(body["images"][0])
        assert text.startswith(prompt + "\n") and f"Seed: {seed}," in text
        info = json.loads(body["info"])
        assert info["all_seeds"] == [seed] and info["all_prompts"] == [prompt]

    saved = sorted((load_server.data_dir / "outputs" / "txt2img-images").rglob("*.png"))
    assert len(saved) == CLIENTS, [p.name for p in saved]
    found = set()
    for path in saved:
        with Image.open(path) as image:
            text = image.text["parameters"]
        prompt = text.split("\n", 1)[0]
        seed = int(text.split("Seed: ", 1)[1].split(",", 1)[0])
        assert path.name.endswith(f"-{seed}.png")
        found.add((prompt, seed))
    assert found == expected, "every job's image is on disk, once"
    assert not list((load_server.data_dir / "outputs").rglob("*.tmp")), "no half-written files"
    assert not poll_errors, f"/progress stopped answering: {poll_errors[0]!r}"
    assert len(progress_answers) > 10 and set(progress_answers) == {200}
    assert not load_server.app.jobs.busy
