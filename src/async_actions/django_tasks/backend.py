"""CeleryBackend: DEP 14's task backend, tracked by an AsyncActionReport and run by Celery.

    TASKS = {
        "default": {
            "BACKEND": "async_actions.django_tasks.CeleryBackend",
            "QUEUES": ["default", "emails"],
            "OPTIONS": {"actions": {"shop.tasks.send_receipt": "Send a receipt"}},
        }
    }

`enqueue` is `start_action` underneath (report on commit, nothing on rollback, the rest of
its guarantees); the result id is the report's id and `get_result` reads the report.
"""

from __future__ import annotations

import json
from typing import Any, cast

from celery import current_app
from celery.utils import uuid
from django.core import checks

from async_actions.django_tasks import options as opts
from async_actions.django_tasks._compat import (
    DEFAULT_TASK_QUEUE_NAME,
    BaseTaskBackend,
    InvalidTask,
    Task,
    TaskResult,
    TaskResultStatus,
    normalize_json,
    task_enqueued,
)
from async_actions.django_tasks.enqueue_as import current_enqueue_as
from async_actions.errors import IdempotencyConflictError


class TaskArgumentsError(InvalidTask, TypeError):
    """Arguments that would not come back from JSON the same (a TypeError, as in Django)."""


class CeleryBackend(BaseTaskBackend):
    supports_defer = True  # run_after -> Celery's eta
    supports_async_task = True  # run on the worker with asgiref's async_to_sync
    supports_get_result = True  # from the report, in any process

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        self.backend_options = opts.BackendOptions.from_params(self.options)

    # A class attribute in Django; here a fact of the broker the Celery app uses.
    @property
    def supports_priority(self) -> bool:  # type: ignore[override]
        """Only brokers that order by priority: Redis and RabbitMQ, not the filesystem."""
        return opts.broker_kind(current_app) in opts.PRIORITY_BROKERS

    def validate_task(self, task: Task[Any, Any]) -> None:
        if task.priority != 0 and not self.supports_priority:
            raise InvalidTask(
                f"Backend does not support setting priority of tasks: the Celery broker "
                f"{opts.broker_kind(current_app)!r} does not order messages by priority "
                f"(Redis and RabbitMQ do)."
            )
        super().validate_task(task)

    def enqueue(self, task: Task[Any, Any], args: Any, kwargs: Any) -> TaskResult[Any, Any]:
        from async_actions.services import start_action
        from async_actions.tasks import RUN_DJANGO_TASK, run_django_task

        self.validate_task(task)
        args, kwargs = json_arguments(task, args, kwargs)
        # Everything get_result needs is in the runner's arguments, so in the report's stored
        # signature: start_action's one INSERT is the whole write.
        signature = run_django_task.signature(
            (task.module_path, args, kwargs),
            {
                "backend": self.alias,
                "queue_name": task.queue_name,
                "priority": task.priority,
                "run_after": task.run_after.isoformat() if task.run_after else None,
            },
            task_id=(task_id := uuid()),  # a new report has it; a reused key's report does not
            **self._celery_options(task),
        )
        given = current_enqueue_as()
        action = given.action or self.backend_options.actions.get(task.module_path) or task.name
        try:
            report = start_action(
                action,
                signature,
                triggered_by=given.triggered_by,
                origin=given.origin,
                idempotency_key=given.idempotency_key,
            )
        except IdempotencyConflictError as conflict:
            raise _key_conflict(conflict) from conflict
        if report.task_name != RUN_DJANGO_TASK:
            raise InvalidTask(
                f"The idempotency key {given.idempotency_key!r} belongs to report "
                f"{report.pk}, which is not a django.tasks run."
            )
        if report.task_id != task_id:
            # An idempotency key used before: that run, as it is now.
            return self.get_result(str(report.pk))
        result: TaskResult[Any, Any] = TaskResult(
            task=task,
            id=str(report.pk),
            status=TaskResultStatus.READY,
            enqueued_at=report.created_at,
            started_at=None,
            finished_at=None,
            last_attempted_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        task_enqueued.send(type(self), task_result=result)
        return result

    def get_result(self, result_id: str) -> TaskResult[Any, Any]:
        from async_actions.django_tasks.results import result_queryset, task_result_from_report

        report = result_queryset(result_id).first()
        return task_result_from_report(report, result_id, backend_alias=self.alias)

    async def aget_result(self, result_id: str) -> TaskResult[Any, Any]:
        from async_actions.django_tasks.results import result_queryset, task_result_from_report

        report = await result_queryset(result_id).afirst()
        return task_result_from_report(report, result_id, backend_alias=self.alias)

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        return [
            *super().check(**kwargs),
            *opts.check_backend(self.alias, self.backend_options, self.queues),
        ]

    def _celery_options(self, task: Task[Any, Any]) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if task.queue_name != DEFAULT_TASK_QUEUE_NAME:
            options["queue"] = task.queue_name  # "default" is the Celery app's default queue
        if task.priority != 0:
            options["priority"] = opts.celery_priority(task.priority, current_app)
        if task.run_after is not None:
            options["eta"] = task.run_after
        return options


def json_arguments(
    task: Task[Any, Any], args: Any, kwargs: Any
) -> tuple[list[Any], dict[str, Any]]:
    """(args, kwargs) as JSON gives them back, or InvalidTask naming what does not survive."""
    try:
        normalized = cast(list[Any], normalize_json([list(args), dict(kwargs)]))
        encoded = json.dumps(normalized, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TaskArgumentsError(
            f"The arguments of task {task.module_path!r} must be JSON (str, int, float, bool, "
            f"None, lists and dicts of them): {exc}. Pass ids, not objects."
        ) from exc
    if json.loads(encoded) != normalized:
        raise TaskArgumentsError(
            f"The arguments of task {task.module_path!r} do not survive a JSON round trip "
            f"(dict keys must be strings)."
        )
    return normalized[0], normalized[1]


def _key_conflict(conflict: IdempotencyConflictError) -> InvalidTask:
    """DEP 14's error for a key that already stands for another action."""
    from async_actions.models import AsyncActionReport
    from async_actions.tasks import RUN_DJANGO_TASK

    task_name = (
        AsyncActionReport.objects.filter(pk=conflict.report_id)
        .values_list("task_name", flat=True)
        .first()
    )
    what = "another run" if task_name == RUN_DJANGO_TASK else "not a django.tasks run"
    return InvalidTask(
        f"The idempotency key {conflict.key!r} belongs to report {conflict.report_id}, which "
        f"is {what}: {conflict}"
    )
