"""Tasks the tests run on a real worker."""

import os
import time

from celery import Task, shared_task
from django.conf import settings

from async_actions import BaseErrorHandlerMixin
from tests.testapp.models import Marker


@shared_task
def noop() -> None:
    return None


@shared_task
def add(x: int, y: int) -> int:
    return x + y


@shared_task(bind=True)
def create_marker(self, name: str, sleep: float = 0.0) -> int:
    if sleep:
        time.sleep(sleep)
    marker = Marker.objects.create(name=name, worker=self.request.hostname or "", pid=os.getpid())
    return marker.pk


@shared_task
def fail(message: str) -> None:
    raise ValueError(message)


@shared_task
def leak_secret() -> None:
    # What a third-party client does when auth fails: quote the key it sent.
    raise PermissionError(f"401 from InvoicesPlus for api_key={settings.INVOICES_PLUS_API_KEY}")


@shared_task(bind=True, max_retries=5)
def flaky(self, failures: int) -> str:
    """Fails `failures` times, then succeeds."""
    if self.request.retries < failures:
        raise self.retry(
            exc=ConnectionError(f"attempt {self.request.retries + 1} failed"), countdown=0
        )
    return "done"


@shared_task(bind=True, max_retries=2)
def always_retry(self) -> None:
    raise self.retry(exc=TimeoutError("the service is down"), countdown=0)


@shared_task
def kill_worker_child() -> None:
    os._exit(1)  # a child that dies mid-task, as on an out-of-memory kill


@shared_task(bind=True)
def record_db_connection(self, name: str) -> None:
    """Store which database connection served this task (its server-side pid on PostgreSQL)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend_pid = cursor.fetchone()[0]
    Marker.objects.create(
        name=f"{name}:{backend_pid}", worker=self.request.hostname or "", pid=os.getpid()
    )


class TalkBaseTask(BaseErrorHandlerMixin, Task):
    """The talk's pattern: a base task that reads the report id from kwargs."""


@shared_task(base=TalkBaseTask)
def talk_style(should_fail: bool = False, **kwargs) -> str:
    if should_fail:
        raise RuntimeError("third party said no")
    return "ok"
