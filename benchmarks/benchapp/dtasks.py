"""The django.tasks function the django_tasks benchmark enqueues."""

from async_actions.django_tasks._compat import task


@task
def noop() -> None:
    return None
