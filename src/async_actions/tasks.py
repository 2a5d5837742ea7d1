"""The library's own Celery task: the worker side of every django.tasks run.

Found by Celery's autodiscover_tasks (async_actions is an installed app) and imported by
CeleryBackend.enqueue, so a project registers nothing per django.tasks function.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

RUN_DJANGO_TASK = "async_actions.run_django_task"


@shared_task(bind=True, name=RUN_DJANGO_TASK, ignore_result=True)
def run_django_task(
    self: Task[Any, Any],
    module_path: str,
    args: list[Any],
    kwargs: dict[str, Any],
    *,
    backend: str,
    queue_name: str = "default",
    priority: int = 0,
    run_after: str | None = None,
) -> None:
    """Run the django.tasks function at `module_path`; its report holds the outcome.

    queue_name, priority and run_after are the Task's, as enqueued: Celery acts on its own
    options; these are here so the report's stored signature holds DEP 14's TaskResult.
    """
    from async_actions.django_tasks.runner import run

    run(self, module_path, args, kwargs, backend)
