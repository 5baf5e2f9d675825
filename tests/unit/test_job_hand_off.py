"""Job.take() / Job.release(): a finished job stays listed for progress look-ups without holding its value."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from modules.errors import JobCancelled
from modules.jobs import JobQueue, Progress

WAIT = 10


class Big:
    """Stands for a value that holds decoded images."""


def test_take_hands_the_value_over_and_the_listed_job_forgets_it() -> None:
    queue = JobQueue()
    job = queue.submit("gen", lambda _p: Big(), owner="api:")
    value = job.take(WAIT)
    ref = weakref.ref(value)
    assert isinstance(value, Big) and queue.get(job.id) is job and job.state == "done"
    del value
    gc.collect()
    assert ref() is None, "the finished job (kept for /progress) no longer holds the value"
    with pytest.raises(RuntimeError, match="already taken"):
        job.take(WAIT)
    with pytest.raises(RuntimeError, match="already taken"):
        job.result(WAIT)


def test_take_raises_the_job_s_error_and_keeps_no_traceback() -> None:
    queue = JobQueue()
    seen: list[weakref.ref[Big]] = []

    def failing(_progress: Progress) -> None:
        data = Big()
        seen.append(weakref.ref(data))
        raise ValueError("GPU on fire")

    job = queue.submit("gen", failing)
    with pytest.raises(ValueError, match="GPU on fire"):
        job.take(WAIT)
    gc.collect()
    assert seen and seen[0]() is None, "the failed job's frames (and their data) are gone with the error"
    assert job.state == "failed"


def test_release_drops_the_value_of_a_job_nobody_waits_for_any_more() -> None:
    queue = JobQueue()
    started, go = threading.Event(), threading.Event()
    made: list[weakref.ref[Big]] = []

    def slow(_progress: Progress) -> Big:
        started.set()
        assert go.wait(WAIT)
        value = Big()
        made.append(weakref.ref(value))
        return value

    running = queue.submit("gen", slow)
    waiting = queue.submit("gen", lambda _p: Big())
    assert started.wait(WAIT)
    running.release()  # before it ends: dropped when it does
    waiting.release()
    go.set()
    assert queue.wait_idle(WAIT)
    gc.collect()
    assert made and made[0]() is None and running.state == "done"
    finished = queue.submit("gen", lambda _p: Big())
    assert finished.wait(WAIT)
    finished.release()  # after it ended: dropped now
    assert finished._value is None  # noqa: SLF001 - nothing else shows it


def test_a_job_cancelled_while_waiting_still_says_so_to_take() -> None:
    queue = JobQueue()
    started, go = threading.Event(), threading.Event()

    def block(_progress: Progress) -> None:
        started.set()
        assert go.wait(WAIT)

    queue.submit("first", block)
    assert started.wait(WAIT)
    later = queue.submit("second", lambda _p: Big(), owner="u")
    assert queue.interrupt(job_id=later.id) == 1
    with pytest.raises(JobCancelled):
        later.take(WAIT)
    go.set()
    assert queue.wait_idle(WAIT)
