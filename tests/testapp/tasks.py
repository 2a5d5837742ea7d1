"""Tasks the tests run on a real worker."""

import os
import time

from celery import Task, chain, group, shared_task
from django.conf import settings
from django.utils import timezone

from async_actions import BaseErrorHandlerMixin, chainable, replace_with
from tests.testapp.models import Marker, StepTiming


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


@shared_task(bind=True, max_retries=1)
def retry_once_later(self) -> str:
    """Retries once with a countdown, so the retry is recorded before attempt 2 can start."""
    if self.request.retries < 1:
        raise self.retry(exc=ConnectionError("attempt 1 failed"), countdown=1)
    return "done"


@shared_task(bind=True, max_retries=2)
def always_retry(self) -> None:
    raise self.retry(exc=TimeoutError("the service is down"), countdown=0)


@shared_task
def kill_worker_child() -> None:
    os._exit(1)  # a child that dies mid-task, as on an out-of-memory kill


@shared_task
def sleep_for(seconds: float, fail: bool = False) -> float:
    """Touches no database: runs on while the worker's database is cut."""
    time.sleep(seconds)
    if fail:
        raise RuntimeError(f"failed after {seconds}s")
    return seconds


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


@shared_task
def timed(name: str, sleep: float = 0.0) -> str:
    """A workflow step that records when it ran."""
    started_at = timezone.now()
    time.sleep(sleep)
    StepTiming.objects.create(name=name, started_at=started_at, finished_at=timezone.now())
    return name


@shared_task
def collect(results: list) -> list:
    """A chord body: receives the header's results."""
    return sorted(results)


# -- the talk's Problem 3: a chain launched from inside a chain step ---------------------------


@shared_task
def inner_chain_naive() -> None:
    """DON'T: the outer chain goes on as soon as this has *sent* its chain."""
    chain(timed.si("some", 0.4), timed.si("other", 0.4)).delay()


@chainable
def inner_chain() -> tuple:
    """DO: return the signatures, and let the caller splice them into one flat chain."""
    return timed.si("some", 0.4), timed.si("other", 0.4)


@shared_task(bind=True)
def inner_chain_replaced(self) -> None:
    """DO, when the sub-workflow is only known at run time: replace this task with it."""
    return replace_with(self, chain(timed.si("some", 0.4), timed.si("other", 0.4)))


@shared_task(bind=True)
def fan_out_replaced(self, count: int) -> None:
    return replace_with(self, group(timed.si(f"member-{i}") for i in range(count)))


@shared_task(bind=True, max_retries=3)
def flaky_step(self, name: str) -> str:
    if self.request.retries < 1:
        raise self.retry(exc=ConnectionError(f"{name} flaked"), countdown=0)
    return name


@shared_task(bind=True)
def replace_with_garbage(self) -> None:
    return replace_with(self, "tests.testapp.tasks.noop")


# -- progress, cancelling, masked arguments (the dashboard) ------------------------------------


@shared_task
def count_with_progress(total: int, pause: float = 0.0) -> int:
    """Reports progress at every item; returns how many reports were written (not throttled)."""
    from async_actions import set_progress

    written = 0
    for done in range(1, total + 1):
        if pause:
            time.sleep(pause)
        written += set_progress(done, total, message=f"item {done} of {total}")
    return written


@shared_task
def progress_writes(total: int) -> None:
    """Stores how many of `total` quick set_progress calls were written, as a Marker."""
    from async_actions import set_progress

    written = sum(set_progress(done, total) for done in range(1, total + 1))
    Marker.objects.create(name=f"progress-writes:{written}", worker="", pid=os.getpid())


@shared_task
def connect(host: str, password: str, options: dict | None = None) -> str:
    """A task whose arguments hold a secret: the dashboard must not show it."""
    return host
