"""Run started actions at once, in the test process, through Celery's own eager path.

The tracking handlers are the ones a worker runs (Celery sends the same task signals in
eager mode), so reports and steps end as they would on a worker. What eager mode cannot
show: serialization of the message, commit timing, another process's view of the
database. Keep a few tests on `action_worker` for those.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery
from celery.canvas import Signature, _chain, chord, group

from async_actions.signals import action_started

_UID = "async_actions.testing.eager"


def _own_task_ids(signature: Signature) -> Signature:
    """Let every task of an eager chain run under its own (frozen) id.

    Celery's eager `chain.apply()` passes the chain's options, which hold the chain's id
    (its last task's), to every task it applies, so all of them would run as the last one.
    A worker runs each under its own id; the tracking of steps relies on it.
    """
    if isinstance(signature, _chain):
        signature.options.pop("task_id", None)
        for task in signature.tasks:
            _own_task_ids(task)
    elif isinstance(signature, chord):
        _own_task_ids(signature.tasks if isinstance(signature.tasks, group) else group())
        _own_task_ids(signature.body)
    elif isinstance(signature, group):
        for task in signature.tasks:
            _own_task_ids(task)
    return signature


class EagerActions:
    """The reports of the actions run so far in this test, in start order."""

    def __init__(self) -> None:
        self.reports: list[Any] = []

    def _run(self, sender: Any, report: Any, signature: Signature, **kwargs: Any) -> None:
        self.reports.append(report)
        try:
            _own_task_ids(signature).apply_async()  # task_always_eager: apply() here and now
        except Exception:
            # An eager chain calls .get() on each step's result, which raises the error of a
            # failed step instead of stopping quietly as a worker does. That failure is
            # recorded already; anything else is a real error of the test.
            report.refresh_from_db()
            if report.status != "failed":
                raise
        report.refresh_from_db()


@contextmanager
def eager_actions(app: Celery) -> Iterator[EagerActions]:
    """Within the block, `start_action` runs its action before it returns."""
    saved = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    eager = EagerActions()
    action_started.connect(eager._run, weak=False, dispatch_uid=_UID)
    try:
        yield eager
    finally:
        action_started.disconnect(dispatch_uid=_UID)
        app.conf.task_always_eager, app.conf.task_eager_propagates = saved
