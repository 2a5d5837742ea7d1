"""One import place for DEP 14: Django 6's ``django.tasks``, else the ``django-tasks`` backport.

The two differ only in names: Django 6 says ``InvalidTask`` where the backport (the
``django_tasks`` module, for Django 5.2) says ``InvalidTaskError``. Type checkers see
Django 6's names (django-stubs describes them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.tasks import (
        DEFAULT_TASK_QUEUE_NAME,
        Task,
        TaskContext,
        TaskResult,
        TaskResultStatus,
        task,
        task_backends,
    )
    from django.tasks.backends.base import BaseTaskBackend
    from django.tasks.base import TaskError
    from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
    from django.tasks.signals import task_enqueued
    from django.utils.json import normalize_json

    SOURCE = "django.tasks"
else:
    try:
        from django.tasks import (
            DEFAULT_TASK_QUEUE_NAME,
            Task,
            TaskContext,
            TaskResult,
            TaskResultStatus,
            task,
            task_backends,
        )
        from django.tasks.backends.base import BaseTaskBackend
        from django.tasks.base import TaskError
        from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
        from django.tasks.signals import task_enqueued
        from django.utils.json import normalize_json

        SOURCE = "django.tasks"
    except ImportError:
        try:
            from django_tasks import (
                DEFAULT_TASK_QUEUE_NAME,
                TaskContext,
                TaskResult,
                TaskResultStatus,
                task,
                task_backends,
            )
            from django_tasks.backends.base import BaseTaskBackend
            from django_tasks.base import Task, TaskError
            from django_tasks.exceptions import InvalidTaskError as InvalidTask
            from django_tasks.exceptions import TaskResultDoesNotExist
            from django_tasks.signals import task_enqueued
            from django_tasks.utils import normalize_json
        except ImportError as exc:
            raise ImportError(
                "async_actions.django_tasks needs Django 6's django.tasks, or on Django 5.2 "
                "the backport: pip install django-tasks (and add 'django_tasks' to "
                "INSTALLED_APPS)."
            ) from exc
        SOURCE = "django_tasks"


def class_path(cls: type[Any]) -> str:
    """'module.QualName', the form DEP 14's TaskError.exception_class_path uses."""
    return f"{cls.__module__}.{cls.__qualname__}"


__all__ = [
    "DEFAULT_TASK_QUEUE_NAME",
    "SOURCE",
    "BaseTaskBackend",
    "InvalidTask",
    "Task",
    "TaskContext",
    "TaskError",
    "TaskResult",
    "TaskResultDoesNotExist",
    "TaskResultStatus",
    "class_path",
    "normalize_json",
    "task",
    "task_backends",
    "task_enqueued",
]
