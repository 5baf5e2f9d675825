"""Two browser sessions on one page: each follows its own job, sees its queue position, and its
Interrupt stops only its own job. Handlers are called directly with a stand-in gr.Request."""

from __future__ import annotations

import html
import re
import threading
import time
from types import SimpleNamespace
from typing import Any

from modules.messages import msg
from modules.ui.blocks import build_ui

LONG = {"prompt": "long", "seed": 1, "steps": 150, "width": 64, "height": 64, "batch_count": 20}


def handler(demo: Any, api_name: str) -> Any:
    return next(f.fn for f in demo.fns.values() if f.api_name == api_name)


def component(demo: Any, elem_id: str) -> Any:
    return next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == elem_id)


def text_of(value: Any) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", str(value)))


def test_each_session_sees_its_own_job_and_interrupts_only_it(sd1_app) -> None:  # noqa: ANN001
    demo = build_ui(sd1_app)
    generate, interrupt = handler(demo, "txt2img"), handler(demo, "txt2img_interrupt")
    progress, message = component(demo, "txt2img_progress"), component(demo, "txt2img_message")
    alice, bob = SimpleNamespace(session_hash="alice"), SimpleNamespace(session_hash="bob")
    alice_updates: list[dict[Any, Any]] = []
    worker = threading.Thread(target=lambda: alice_updates.extend(generate(alice, **LONG)))
    worker.start()
    deadline = time.monotonic() + 30
    while not (sd1_app.jobs.current and sd1_app.jobs.current.progress.step > 0):
        assert time.monotonic() < deadline, "alice's job did not start"
        time.sleep(0.02)
    assert sd1_app.jobs.current.owner == "ui:alice"

    bob_run = generate(bob, **LONG)
    first = next(bob_run)
    assert text_of(first[progress]) == msg("waiting_for_job", ahead=1)
    interrupt(bob)
    bob_final: dict[Any, Any] = {}
    for update in bob_run:
        bob_final.update(update)
    assert text_of(bob_final[message]) == msg("job_cancelled")
    assert worker.is_alive() and not sd1_app.jobs.current.progress.interrupted, "bob's Interrupt left alice's job alone"

    while not any(text_of(u.get(progress, "")).startswith("Step ") for u in list(alice_updates)):
        assert time.monotonic() < deadline, "alice never saw her job's progress"
        time.sleep(0.05)
    interrupt(alice)
    worker.join(30)
    final: dict[Any, Any] = {}
    for update in alice_updates:
        final.update(update)
    assert text_of(final[message]).startswith("Interrupted:")


def test_the_page_says_so_when_listen_locks_extensions(make_app) -> None:  # noqa: ANN001
    app = make_app((), load=False)
    assert not any(getattr(b, "elem_id", None) == "extensions_locked" for b in build_ui(app).blocks.values())
    app.settings.listen = True
    note = component(build_ui(app), "extensions_locked")
    assert "--enable-insecure-extension-access" in text_of(note.value)
    app.settings.enable_insecure_extension_access = True
    assert not any(getattr(b, "elem_id", None) == "extensions_locked" for b in build_ui(app).blocks.values())
