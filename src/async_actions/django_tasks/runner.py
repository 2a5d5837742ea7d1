"""The worker side of a django.tasks run: call the function, record what DEP 14 reports.

The tracker (async_actions.tracking) moves the report's status like any action's; this
module adds, only for django.tasks runs, what TaskResult shows besides: the worker of each
attempt, the return value, and the failing exception's class path.
"""

from __future__ import annotations

import json
from typing import Any, cast

from celery import Task as CeleryTask
from django.utils import timezone
from django.utils.module_loading import import_string

from async_actions.conf import aa_settings
from async_actions.django_tasks._compat import (
    Task,
    TaskContext,
    TaskResult,
    TaskResultStatus,
    class_path,
    normalize_json,
    task_backends,
)
from async_actions.django_tasks.backend import CeleryBackend
from async_actions.django_tasks.results import running
from async_actions.errors import TaskReturnValueError
from async_actions.models import ACTIVE_STATUSES, AsyncActionReport
from async_actions.signatures import report_id_from_stamps


def run(
    celery_task: CeleryTask[Any, Any],
    module_path: str,
    args: list[Any],
    kwargs: dict[str, Any],
    alias: str,
) -> None:
    request = celery_task.request
    report_id = report_id_from_stamps(getattr(request, "stamps", None))
    attempt = (request.retries or 0) + 1
    task = _load_task(module_path)
    backend = cast(CeleryBackend, task_backends[alias])
    worker_ids = _record_attempt(report_id, attempt, request.hostname or "worker")
    try:
        if task.takes_context:
            result = _context_result(backend, report_id, task, args, kwargs, worker_ids)
            value = task.call(TaskContext(task_result=result), *args, **kwargs)
        else:
            value = task.call(*args, **kwargs)
        stored = _storable(value)
    except Exception as exc:
        options = backend.backend_options
        retry_on = options.retry_on()
        if retry_on and isinstance(exc, retry_on) and request.retries < options.max_retries:
            raise celery_task.retry(
                exc=exc, countdown=options.retry_delay, max_retries=options.max_retries
            ) from exc
        if report_id is not None:
            _active(report_id).update(exception_class_path=class_path(type(exc))[:255])
        raise
    if stored is not None and report_id is not None:
        _active(report_id).update(return_value=stored)


def _load_task(module_path: str) -> Task[Any, Any]:
    found = import_string(module_path)
    if not isinstance(found, Task):
        raise TypeError(f"{module_path!r} is not a django.tasks Task (decorate it with @task).")
    return found


def _active(report_id: int) -> Any:
    # Never moves a finished report: a redelivered message after the end writes nothing.
    return AsyncActionReport.objects.filter(pk=report_id, status__in=ACTIVE_STATUSES)


def _record_attempt(report_id: int | None, attempt: int, worker_id: str) -> list[str]:
    """worker_ids with this attempt's worker in its place (a redelivery overwrites it)."""
    if report_id is None:
        return [worker_id] * attempt
    earlier: list[str] = []
    if attempt > 1:  # a retry: read the earlier attempts' workers (rare, so one more query)
        earlier = list(
            AsyncActionReport.objects.filter(pk=report_id)
            .values_list("worker_ids", flat=True)
            .first()
            or []
        )[: attempt - 1]
        earlier += [""] * (attempt - 1 - len(earlier))
    worker_ids = [*earlier, worker_id]
    _active(report_id).update(worker_ids=worker_ids, last_attempted_at=timezone.now())
    return worker_ids


def _context_result(
    backend: Any,
    report_id: int | None,
    task: Task[Any, Any],
    args: list[Any],
    kwargs: dict[str, Any],
    worker_ids: list[str],
) -> TaskResult[Any, Any]:
    if report_id is not None:
        return running(backend.get_result(str(report_id)))
    now = timezone.now()
    return TaskResult(
        task=task,
        id="",
        status=TaskResultStatus.RUNNING,
        enqueued_at=None,
        started_at=now,
        finished_at=None,
        last_attempted_at=now,
        args=args,
        kwargs=kwargs,
        backend=backend.alias,
        errors=[],
        worker_ids=worker_ids,
    )


def _storable(value: Any) -> Any:
    """`value` as JSON will store it, or TaskReturnValueError saying why it cannot be."""
    try:
        value = normalize_json(value)
        size = len(json.dumps(value, allow_nan=False).encode())
    except (TypeError, ValueError) as exc:
        raise TaskReturnValueError(
            f"The task returned a value that is not JSON ({exc}); return ids and plain values."
        ) from exc
    limit = aa_settings.TASK_RETURN_VALUE_MAX_BYTES
    if size > limit:
        raise TaskReturnValueError(
            f"The task returned {size} bytes of JSON; the limit is {limit} "
            f"(ASYNC_ACTIONS['TASK_RETURN_VALUE_MAX_BYTES']). Store large results in your "
            f"own models and return their ids."
        )
    return value


__all__ = ["run"]
