"""pytest plugin: real workers, eager runs and captured starts for tests of tracked actions.

Registered through the ``pytest11`` entry point, so it is active once the package is
installed (``-p async_actions.testing.plugin`` or a ``pytest_plugins`` line still work and
do not load it twice). Configure the Celery app in pytest's ini options::

    [tool.pytest.ini_options]
    async_actions_celery_app = "proj.celery:app"

Fixtures (docs/testing.md has worked examples):
- ``action_worker``: a real Celery worker on the project's broker and the test database, for
  tests marked ``django_db(transaction=True)``. One per session, or a fresh one per test
  with ``@pytest.mark.async_actions_worker_scope("test")`` or the ini option
  ``async_actions_worker_scope = test``.
- ``eager_actions``: ``start_action`` runs the action before it returns, in the test
  process, through Celery's eager mode; for plain ``django_db`` tests.
- ``captured_actions``: nothing runs; lists what ``start_action`` started; for plain
  ``django_db`` tests.
- ``async_actions_worker`` (the session's worker, with no check) and
  ``async_actions_start_worker`` (a factory for more workers) as before.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from async_actions.testing.capture import CapturedActions
from async_actions.testing.capture import captured_actions as _captured
from async_actions.testing.dbmode import require_db_mode
from async_actions.testing.eager import EagerActions
from async_actions.testing.eager import eager_actions as _eager
from async_actions.testing.worker import WorkerProcess

SCOPE_MARKER = "async_actions_worker_scope"
SCOPES = ("session", "test")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "async_actions_celery_app",
        help="The Celery app test workers run, as 'module:attribute' (e.g. proj.celery:app).",
        default="",
    )
    parser.addini(
        "async_actions_worker_scope",
        help="Which worker action_worker gives: 'session' (one for all tests, the default) "
        "or 'test' (a fresh worker for each test).",
        default="session",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{SCOPE_MARKER}(scope): 'test' gives this test a fresh action_worker of its own, "
        "'session' the shared one.",
    )


def configured_app(pytestconfig: pytest.Config) -> Any:
    """The ini option's app, or Celery's current app (the one shared_task binds to)."""
    from celery import current_app
    from celery.utils.imports import symbol_by_name

    path = pytestconfig.getini("async_actions_celery_app")
    return symbol_by_name(path) if path else current_app._get_current_object()  # type: ignore[attr-defined]


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


def _worker_scope(request: pytest.FixtureRequest) -> str:
    marker = request.node.get_closest_marker(SCOPE_MARKER)
    scope = (
        marker.args[0]
        if marker and marker.args
        else request.config.getini("async_actions_worker_scope")
    )
    if scope not in SCOPES:
        raise pytest.UsageError(
            f"async_actions_worker_scope must be one of {SCOPES}, got {scope!r}."
        )
    return str(scope)


def _exclusive(request: pytest.FixtureRequest, fixture: str) -> None:
    others = {"action_worker", "eager_actions", "captured_actions"} - {fixture}
    clash = sorted(others & set(request.fixturenames))
    if clash:
        pytest.fail(
            f"{fixture} cannot be combined with {', '.join(clash)} in one test: each decides "
            "differently what start_action does with the action.",
            pytrace=False,
        )


@pytest.fixture
def action_worker(request: pytest.FixtureRequest) -> Iterator[WorkerProcess]:
    """A real worker: the session's, or a fresh one for this test (see the module's doc)."""
    require_db_mode(request, "action_worker", "transaction")
    _exclusive(request, "action_worker")
    if _worker_scope(request) == "session":
        yield request.getfixturevalue("async_actions_worker")
        return
    # A queue of its own, the app's default while the test runs: a session worker started
    # by an earlier test would otherwise take some of this test's tasks.
    app = request.getfixturevalue("async_actions_celery_app")
    name = f"test-worker-{uuid.uuid4().hex[:6]}"
    queue = f"{request.getfixturevalue('async_actions_queue')}-{name}"
    start = request.getfixturevalue("async_actions_start_worker_session")
    worker = start(name, queue=queue)
    session_queue, app.conf.task_default_queue = app.conf.task_default_queue, queue
    try:
        yield worker
    finally:
        app.conf.task_default_queue = session_queue
        worker.stop()


@pytest.fixture
def action_relay(request: pytest.FixtureRequest) -> Iterator[None]:
    """The outbox relay, in a thread of the test process while the test runs.

    With PUBLISH = "relay" a start publishes nothing itself: use it with `action_worker`.
    """
    from async_actions.outbox import relay_forever

    require_db_mode(request, "action_relay", "transaction")
    app = request.getfixturevalue("async_actions_celery_app")
    stop = threading.Event()
    relay = threading.Thread(
        target=relay_forever,
        kwargs={"app": app, "interval": 0.02, "stop": stop},
        name="async-actions-test-relay",
        daemon=True,
    )
    relay.start()
    try:
        yield
    finally:
        stop.set()
        relay.join(timeout=30)


@pytest.fixture
def eager_actions(
    request: pytest.FixtureRequest, pytestconfig: pytest.Config
) -> Iterator[EagerActions]:
    """start_action runs the action at once, in this process; the report is final on return."""
    require_db_mode(request, "eager_actions", "plain")
    _exclusive(request, "eager_actions")
    with _eager(configured_app(pytestconfig)) as eager:
        yield eager


@pytest.fixture
def captured_actions(request: pytest.FixtureRequest) -> Iterator[CapturedActions]:
    """Nothing runs: the list of what start_action started, for tests of views and services."""
    require_db_mode(request, "captured_actions", "plain")
    _exclusive(request, "captured_actions")
    with _captured() as captured:
        yield captured
