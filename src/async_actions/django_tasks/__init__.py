"""Django's task API (DEP 14: ``django.tasks``, or the ``django-tasks`` backport) on Celery,
every run tracked by an AsyncActionReport. See docs/django-tasks.md.
"""

from async_actions.django_tasks.backend import CeleryBackend, TaskArgumentsError
from async_actions.django_tasks.enqueue_as import enqueue_as

__all__ = ["CeleryBackend", "TaskArgumentsError", "enqueue_as"]
