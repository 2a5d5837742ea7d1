"""pytest plugin: a real worker for the session, and more on demand.

Configure the Celery app in pytest's ini options::

    [tool.pytest.ini_options]
    async_actions_celery_app = "proj.celery:app"

Fixtures:
- ``async_actions_worker``: one prefork worker (concurrency 2) for the whole session, on the
  databases pytest-django created, consuming a queue unique to the session.
- ``async_actions_start_worker``: a factory for more workers on the same queue, stopped
  after the test.
Tests that a worker must see need real commits: mark them ``django_db(transaction=True)``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from async_actions.testing.worker import WorkerProcess


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "async_actions_celery_app",
        help="The Celery app test workers run, as 'module:attribute' (e.g. proj.celery:app).",
        default="",
    )


@pytest.fixture(scope="session")
def async_actions_celery_app(pytestconfig: pytest.Config) -> Any:
    from celery.utils.imports import symbol_by_name

    path = pytestconfig.getini("async_actions_celery_app")
    if not path:
        raise pytest.UsageError(
            "Set async_actions_celery_app = 'proj.celery:app' in your pytest configuration."
        )
    return symbol_by_name(path)


@pytest.fixture(scope="session")
def async_actions_queue(async_actions_celery_app: Any) -> str:
    """A queue of this session's own, so tests never take another run's messages."""
    queue = f"aa-test-{uuid.uuid4().hex[:10]}"
    async_actions_celery_app.conf.task_default_queue = queue
    return queue


@pytest.fixture(scope="session")
def async_actions_test_db_names(django_db_setup: Any) -> dict[str, str]:
    from django.db import connections

    names = {}
    for alias in connections:
        settings = connections[alias].settings_dict
        name = str(settings["NAME"])
        if settings["ENGINE"].endswith("sqlite3") and (":memory:" in name or "mode=memory" in name):
            raise pytest.UsageError(
                f"Database {alias!r} is an in-memory SQLite test database, which a worker in "
                f"another process cannot open: set DATABASES[{alias!r}]['TEST']['NAME'] to a "
                f"file path."
            )
        names[alias] = name
    return names


@pytest.fixture(scope="session")
def async_actions_start_worker_session(
    pytestconfig: pytest.Config,
    async_actions_queue: str,
    async_actions_test_db_names: dict[str, str],
) -> Callable[..., WorkerProcess]:
    def start(name: str, **kwargs: Any) -> WorkerProcess:
        kwargs.setdefault("queue", async_actions_queue)
        return WorkerProcess(
            pytestconfig.getini("async_actions_celery_app"),
            db_names=async_actions_test_db_names,
            name=name,
            **kwargs,
        ).start()

    return start


@pytest.fixture(scope="session")
def async_actions_worker(
    async_actions_start_worker_session: Callable[..., WorkerProcess],
) -> Iterator[WorkerProcess]:
    worker = async_actions_start_worker_session("session-worker")
    yield worker
    worker.stop()


@pytest.fixture
def async_actions_start_worker(
    async_actions_start_worker_session: Callable[..., WorkerProcess],
) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(name: str = "extra-worker", **kwargs: Any) -> WorkerProcess:
        worker = async_actions_start_worker_session(f"{name}-{len(started)}", **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
