"""Prompt amplifiers get a 422 naming the limit at once (never a queue held for minutes, never 200 without images)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.helpers import SMALL, Served

V1 = "/sdapi/v1"
# a heavy but real prompt: 20 BREAKs, emphasis nested 10 deep, 30 edits and alternations, 4 AND parts
REALISTIC = (" BREAK ".join(f"part {i}, detailed, (sharp:1.2)" for i in range(21))
             + " " + "(" * 10 + "deep" + ")" * 10
             + " " + " ".join(f"[cat{i}:dog{i}:{i % 19 + 1}]" for i in range(25))
             + " [red|green|blue] [day|night] [a|b|c|d] [[x|y]|z] AND fog :0.3 AND rain AND snow:-0.2")


@pytest.fixture
def client(api_server: Served) -> Iterator[httpx.Client]:
    # short: before the limits "a BREAK " * 4000 held the queue for minutes
    with httpx.Client(base_url=api_server.url, timeout=30) as c:
        yield c


@pytest.mark.parametrize(("body", "named"), [
    ({"prompt": "a BREAK " * 4000}, "The prompt splits into at least 4,000 chunks of 75 tokens"),
    ({"prompt": "(" * 10_000 + "a"}, "The prompt nests brackets 10,000 deep; the limit is 32"),
    ({"prompt": "[a:" * 5000 + "b"}, "The prompt nests brackets 5,000 deep; the limit is 32"),
    ({"prompt": "a cat", "negative_prompt": "[" * 10_000}, "The negative prompt nests brackets 10,000 deep"),
    ({"prompt": "[a|b] " * 150}, "150 prompt edits and alternations ([from:to:when], [a|b]); the limit is 100"),
    ({"prompt": "a AND " * 100}, "101 parts joined by AND; the limit is 32"),
    ({"prompt": "\\( " * 6000}, "The prompt splits into 80 chunks of 75 tokens"),  # found when tokenized, in the job
])
def test_prompt_amplifiers_are_a_422_naming_the_limit(client: httpx.Client, body: dict, named: str) -> None:
    r = client.post(f"{V1}/txt2img", json={**SMALL, **body})
    assert r.status_code == 422, r.text[:500]
    assert named in r.json()["detail"]
    assert "limit" in r.json()["detail"]


def test_a_heavy_realistic_prompt_still_generates(client: httpx.Client) -> None:
    r = client.post(f"{V1}/txt2img", json={**SMALL, "prompt": REALISTIC, "negative_prompt": "blurry BREAK ((ugly))"})
    assert r.status_code == 200, r.text[:500]
    assert len(r.json()["images"]) == 1
