"""django.tasks functions the tests enqueue on the CeleryBackend (see settings.TASKS)."""

from celery import current_task
from django.conf import settings

from async_actions.django_tasks._compat import task
from tests.testapp.models import Marker


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def echo(*args, **kwargs) -> dict:
    return {"args": list(args), "kwargs": kwargs}


@task
def named() -> None:
    return None


@task
def create_marker(name: str) -> int:
    return Marker.objects.create(name=name).pk


@task
def fail(message: str) -> None:
    raise ValueError(message)


@task
def leak_secret() -> None:
    raise PermissionError(f"401 for api_key={settings.INVOICES_PLUS_API_KEY}")


@task(takes_context=True)
def with_context(context, note: str) -> dict:
    result = context.task_result
    return {"attempt": context.attempt, "id": result.id, "status": str(result.status), "note": note}


@task
async def async_add(x: int, y: int) -> int:
    return x + y


@task(backend="retrying", takes_context=True)
def flaky(context, failures: int) -> int:
    """Fails with ConnectionError (retried by the "retrying" backend) `failures` times."""
    if context.attempt <= failures:
        raise ConnectionError(f"attempt {context.attempt} failed")
    return context.attempt


@task
def returns(size: int) -> str:
    return "x" * size


@task
def returns_object() -> object:
    return object()


@task
def delivery() -> dict:
    """Where Celery delivered this run: its queue and its message priority."""
    info = current_task.request.delivery_info or {}
    return {"routing_key": info.get("routing_key"), "priority": info.get("priority")}
