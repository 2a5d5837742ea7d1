"""`replace_with`: a task that decides its sub-workflow at run time, tracked as one action.

    @shared_task(bind=True)
    def sync_all(self, account_ids):
        return replace_with(self, group(_sync.si(a) for a in account_ids))

Celery's `Task.replace` runs the new signature in the task's place (the outer workflow
waits for it, unlike a chain launched from inside the task). This helper also records the
new tasks as steps of the running action, so its report finishes only when they have.
"""

from __future__ import annotations

from typing import Any, NoReturn

from celery import Task
from celery.canvas import Signature
from django.db import transaction
from django.db.models import F

from async_actions.canvas import leaves
from async_actions.models import AsyncActionReport, AsyncActionStep, StepStatus
from async_actions.signatures import check_signature, report_id_from_stamps, stamp_steps
from async_actions.tracker import get_tracker


def replace_with(task: Task[Any, Any], signature: Signature) -> NoReturn:
    """Replace `task` by `signature`; raises Celery's Ignore, like `Task.replace`."""
    request = task.request
    report_id = report_id_from_stamps(getattr(request, "stamps", None))
    if report_id is None or request.id is None:
        raise task.replace(signature)
    check_signature(signature, caller="replace_with()")
    signature = signature.clone()
    signature.freeze(request.id)  # the ids Celery's replace keeps: the last task gets ours
    new_steps = leaves(signature)
    # This task's own start may still sit in the write-behind buffer: write it now, so it
    # cannot land on the row after that row was handed to the new last task.
    get_tracker().flush()
    with transaction.atomic():
        _record_steps(report_id, request.id, new_steps)
    stamp_steps(new_steps, report_id)
    raise task.replace(signature)


def _self_and_ancestors(branch: str) -> list[str]:
    """ "1.0.2" -> ["1.0.2", "1.0", "1", ""]: the branches a step's successors can be on."""
    parts = branch.split(".") if branch else []
    return [".".join(parts[:length]) for length in range(len(parts), -1, -1)]


def _record_steps(report_id: int, task_id: str, new_steps: list[Any]) -> None:
    current = AsyncActionStep.objects.select_for_update().filter(task_id=task_id).first()
    if current is None:  # a single-task action becomes a workflow
        position, branch, first_new = 0, "", 0
        AsyncActionReport.objects.filter(pk=report_id).update(total_steps=len(new_steps))
    else:
        position, branch = current.position, current.branch
        span = max(step.position for step in new_steps) + 1
        # Make room: what comes after the replaced step in its own branch, and after the
        # groups it sits in, moves down by the new span; parallel branches keep theirs.
        AsyncActionStep.objects.filter(
            report_id=report_id, position__gt=position, branch__in=_self_and_ancestors(branch)
        ).update(position=F("position") + span - 1)
        AsyncActionReport.objects.filter(pk=report_id).update(
            total_steps=F("total_steps") + len(new_steps) - 1
        )
        first_new = position
    rows = []
    for step in new_steps:
        fields = {
            "task_name": step.signature.task,
            "position": first_new + step.position,
            "branch": ".".join(part for part in (branch, step.branch) if part),
        }
        if current is not None and step.signature.id == task_id:
            # Celery gives the replaced task's id to the new last task: the row is now its.
            AsyncActionStep.objects.filter(pk=current.pk).update(
                **fields, status=StepStatus.PENDING, attempts=0, started_at=None
            )
        else:
            rows.append(AsyncActionStep(report_id=report_id, task_id=step.signature.id, **fields))
    AsyncActionStep.objects.bulk_create(rows)
