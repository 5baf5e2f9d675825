"""JobQueue: FIFO, one job at a time, per-job progress, owner-scoped Interrupt/Skip, errors free the worker."""

from __future__ import annotations

import threading

import pytest

from modules.errors import InvalidParams, JobCancelled
from modules.jobs import JobQueue, Progress

WAIT = 10


def blocker(started: threading.Event, release: threading.Event, value: object = None):  # noqa: ANN201
    def fn(_progress: Progress) -> object:
        started.set()
        assert release.wait(WAIT)
        return value

    return fn


def test_jobs_run_in_order_one_at_a_time_with_positions() -> None:
    queue = JobQueue()
    started, release = threading.Event(), threading.Event()
    order: list[str] = []
    first = queue.submit("a", blocker(started, release, "A"), owner="u1")
    assert started.wait(WAIT)
    second = queue.submit("b", lambda p: order.append("b") or "B", owner="u2")
    third = queue.submit("c", lambda p: order.append("c") or "C", owner="u1")
    assert [queue.position(j) for j in (first, second, third)] == [0, 1, 2]
    assert queue.busy and queue.current is first and queue.progress is first.progress
    assert [j.id for j in queue.jobs("u1")] == [first.id, third.id]
    release.set()
    assert (first.result(WAIT), second.result(WAIT), third.result(WAIT)) == ("A", "B", "C")
    assert order == ["b", "c"] and queue.wait_idle(WAIT) and not queue.busy
    assert queue.position(third) == 0 and third.state == "done" and queue.get(second.id) is second
    assert queue.progress is third.progress, "after the last job, its progress stays readable"


def test_interrupt_by_owner_touches_only_that_owners_jobs() -> None:
    queue = JobQueue()
    started, release = threading.Event(), threading.Event()

    def long_job(progress: Progress) -> str:
        started.set()
        while not progress.interrupted:
            if release.wait(0.01):
                return "finished"
        return "interrupted"

    alice = queue.submit("txt2img", long_job, owner="ui:alice")
    assert started.wait(WAIT)
    bob = queue.submit("txt2img", lambda p: "bob ran", owner="ui:bob")
    assert queue.interrupt(owner="ui:carol") == 0
    assert queue.interrupt(job_id=alice.id, owner="ui:bob") == 0, "an id of someone else's job does nothing"
    assert queue.interrupt(owner="ui:bob") == 1
    with pytest.raises(JobCancelled):
        bob.result(WAIT)
    assert bob.state == "cancelled" and not alice.progress.interrupted
    assert queue.skip(owner="ui:bob") == 0
    assert queue.skip(owner="ui:alice") == 1 and alice.progress.skipped
    assert queue.interrupt(owner="ui:alice") == 1
    assert alice.result(WAIT) == "interrupted"
    release.set()


def test_interrupt_without_owner_hits_the_running_job_only() -> None:
    queue = JobQueue()
    started, release = threading.Event(), threading.Event()
    running = queue.submit("a", lambda p: (started.set(), release.wait(WAIT), p.interrupted)[2])
    assert started.wait(WAIT)
    waiting = queue.submit("b", lambda p: p.interrupted)
    assert queue.interrupt() == 1
    release.set()
    assert running.result(WAIT) is True and waiting.result(WAIT) is False


def test_a_failing_job_raises_for_its_caller_and_the_next_one_runs() -> None:
    queue = JobQueue()

    def boom(_progress: Progress) -> None:
        raise RuntimeError("boom")

    failing = queue.submit("x", boom)
    after = queue.submit("y", lambda p: 42)
    with pytest.raises(RuntimeError, match="boom"):
        failing.result(WAIT)
    assert after.result(WAIT) == 42 and failing.state == "failed"
    assert queue.run("z", lambda p: "sync") == "sync"
    assert queue.wait_idle(WAIT) and queue._worker is None, "the worker thread ends when the queue is empty"


def test_task_ids_are_unique_among_unfinished_jobs() -> None:
    queue = JobQueue()
    started, release = threading.Event(), threading.Event()
    job = queue.submit("a", blocker(started, release), job_id="task-1")
    for bad in ("task-1", "", "x" * 65):
        with pytest.raises(InvalidParams):
            queue.submit("b", lambda p: None, job_id=bad)
    release.set()
    job.result(WAIT)
    assert queue.submit("c", lambda p: "again", job_id="task-1").result(WAIT) == "again"
