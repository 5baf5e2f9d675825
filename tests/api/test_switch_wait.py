"""POST /options checkpoint switches wait for the queue without holding server threads, and only a few may
wait at once: many of them behind a long job leave /progress and /interrupt answering at once."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx

from modules.api.routes import MAX_WAITING_SWITCHES
from tests.api.helpers import Served

V1 = "/sdapi/v1"
SWITCHES = 50  # more than anyio's 40 worker threads
QUICK_S = 2.0


async def _timed(call: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await call  # type: ignore[misc]
    return response, time.monotonic() - started


def test_switches_behind_a_long_job_hold_no_threads_and_are_bounded(api_server: Served) -> None:
    release = threading.Event()
    blocker = api_server.app.jobs.submit("long job", lambda _p: release.wait(60), owner="ui:someone-else")

    async def scenario() -> None:
        limits = httpx.Limits(max_connections=SWITCHES + 10)
        async with httpx.AsyncClient(base_url=api_server.url, timeout=30, limits=limits) as c:
            switches = [asyncio.create_task(c.post(f"{V1}/options", json={"sd_model_checkpoint": "tiny-b"}))
                        for _ in range(SWITCHES)]
            await asyncio.wait(switches, timeout=10, return_when=asyncio.FIRST_COMPLETED)
            await asyncio.sleep(1.0)  # every request has arrived by now
            progress, progress_s = await _timed(c.get(f"{V1}/progress", timeout=10))
            interrupt, interrupt_s = await _timed(c.post(f"{V1}/interrupt", params={"id_task": blocker.id}, timeout=10))
            refused = [t.result() for t in switches if t.done()]
            assert progress.status_code == 200 and progress_s < QUICK_S, progress_s
            assert interrupt.status_code == 200 and interrupt_s < QUICK_S, interrupt_s
            assert len(refused) == SWITCHES - MAX_WAITING_SWITCHES
            for r in refused:
                assert r.status_code == 429 and "retry once one of them has finished" in r.json()["detail"], r.text
            assert progress.json()["state"]["job"] == "load-checkpoint"  # the caller's first waiting switch
            assert not blocker.done, "an API caller's interrupt reached another user's job"
            release.set()
            waited = await asyncio.gather(*[t for t in switches if not t.done()])
            assert [r.status_code for r in waited] == [200] * MAX_WAITING_SWITCHES, [r.text for r in waited]
            current = (await c.get(f"{V1}/options")).json()["sd_model_checkpoint"]
            assert current.startswith("tiny-b"), current

    try:
        asyncio.run(scenario())
    finally:
        release.set()
    assert blocker.result(10) is True


def test_a_refused_switch_changes_nothing_and_a_free_slot_takes_the_next(api_server: Served) -> None:
    release = threading.Event()
    api_server.app.jobs.submit("long job", lambda _p: release.wait(60), owner="ui:someone-else")

    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=api_server.url, timeout=30) as c:
            before = (await c.get(f"{V1}/options")).json()
            waiting = [asyncio.create_task(c.post(f"{V1}/options", json={"sd_model_checkpoint": "tiny-a"}))
                       for _ in range(MAX_WAITING_SWITCHES)]
            while len(api_server.app.jobs.jobs("api:")) < MAX_WAITING_SWITCHES:
                await asyncio.sleep(0.05)
            refused = await c.post(f"{V1}/options", json={"sd_model_checkpoint": "tiny-a", "sd_vae": "None",
                                                          "CLIP_stop_at_last_layers": 2})
            assert refused.status_code == 429, refused.text
            after = (await c.get(f"{V1}/options")).json()
            assert (after["sd_vae"], after["CLIP_stop_at_last_layers"]) == (before["sd_vae"],
                                                                            before["CLIP_stop_at_last_layers"])
            # interrupting the caller's own queued switches frees the slots: they answer 409, the next one is taken
            assert (await c.post(f"{V1}/interrupt")).status_code == 200
            assert [r.status_code for r in await asyncio.gather(*waiting)] == [409] * MAX_WAITING_SWITCHES
            taken = asyncio.create_task(c.post(f"{V1}/options", json={"sd_model_checkpoint": "tiny-a"}))
            await asyncio.sleep(0.3)
            assert not taken.done()
            release.set()
            assert (await taken).status_code == 200

    try:
        asyncio.run(scenario())
    finally:
        release.set()
