"""The plugin as users get it: pytester runs small test files in a sample Django project
(tests/testing/sample_project.py) in a subprocess, with the package installed and no
pytest_plugins line, and the outcomes and failure messages are checked."""

from __future__ import annotations

import pytest

from tests.testing.sample_project import BAD_TASKS, write_project

pytest_plugins = ["pytester"]

WORKER_TESTS = """
import pytest
from django.test import override_settings

from async_actions import start_action
from async_actions.testing import wait_for_report
from shop.tasks import add, fail


@pytest.mark.django_db(transaction=True)
def test_runs_on_a_real_worker(action_worker):
    report = wait_for_report(start_action("Add", add.s(1, 2)))
    assert report.status == "ok"
    assert action_worker.hostname.startswith("session-worker@")


@pytest.mark.async_actions_worker_scope("test")
@pytest.mark.django_db(transaction=True)
def test_a_fresh_worker_of_its_own(async_actions_worker, action_worker):
    report = wait_for_report(start_action("Fail", fail.s("no")))
    assert (report.status, report.error_message) == ("failed", "ValueError: no")
    assert action_worker.hostname.startswith("test-worker-")
    # The session's worker runs too, and takes none of this test's tasks.
    started = [wait_for_report(start_action("Add", add.s(n, n))) for n in range(6)]
    log = action_worker.log()
    assert all(f"[{report.task_id}] succeeded" in log for report in started)


@pytest.mark.django_db
def test_forgot_transaction(action_worker):
    raise AssertionError("never reached: the fixture fails first")


@override_settings(ASYNC_ACTIONS={"PUBLISH": "relay"})
@pytest.mark.django_db(transaction=True)
def test_starts_through_the_relay(action_worker, action_relay):
    report = wait_for_report(start_action("Add", add.s(2, 3)))
    assert report.status == "ok" and report.sent_at is not None


@pytest.mark.django_db
def test_relay_forgot_transaction(action_relay):
    raise AssertionError("never reached: the fixture fails first")
"""

EAGER_TESTS = """
import pytest
from celery import chain

from async_actions import start_action
from shop.tasks import add, fail


@pytest.mark.django_db
def test_eager_success(eager_actions):
    report = start_action("Add", add.s(1, 2))
    assert (report.status, report.attempts) == ("ok", 1)
    assert eager_actions.reports == [report]


@pytest.mark.django_db
def test_eager_failure_in_a_chain(eager_actions):
    report = start_action("Chain", chain(add.si(1, 1), fail.si("boom"), add.si(2, 2)))
    assert report.status == "failed"
    assert report.error_message == "Failed at step 2 (shop.tasks.fail): ValueError: boom"
    assert [s.status for s in report.steps.all()] == ["ok", "failed", "pending"]


@pytest.mark.django_db(transaction=True)
def test_eager_with_transaction(eager_actions):
    raise AssertionError("never reached")
"""

CAPTURED_TESTS = """
import pytest
from celery import chain, group
from django.contrib.auth.models import User
from django.db import transaction

from async_actions import start_action
from async_actions.testing import assert_workflow
from shop.tasks import _fetch, _store, add, sync_account


@pytest.mark.django_db
def test_lists_what_started(captured_actions):
    user = User.objects.create(username="ann")
    start_action("Add", add.s(1, y=2), triggered_by=user)
    start_action("Sync", chain(*sync_account(7), group(add.si(1, 1), add.si(2, 2))))

    first, second = captured_actions
    assert (first.action, first.triggered_by, first.origin) == ("Add", user, "user")
    assert [(c.name, c.args, c.kwargs) for c in first.calls] == [("shop.tasks.add", (1,), {"y": 2})]
    assert second.task_names == [
        "shop.tasks._fetch", "shop.tasks._store", "shop.tasks.add", "shop.tasks.add"
    ]
    assert second.shape == ["shop.tasks._fetch", "shop.tasks._store", {"shop.tasks.add"}]
    assert second.report.status == "pending"


@pytest.mark.django_db
def test_a_rolled_back_start_is_not_listed(captured_actions):
    with pytest.raises(RuntimeError), transaction.atomic():
        start_action("Add", add.s(1, 2))
        raise RuntimeError("the view failed")
    assert list(captured_actions) == []


def test_workflow_shape_matches():
    assert_workflow(chain(*sync_account(1), group(add.si(1, 1), _fetch.si(2))), [
        "_fetch", _store, {"add", "_fetch"},
    ])


def test_workflow_shape_differs():
    assert_workflow(chain(*sync_account(1)), ["_fetch", {"_store", "add"}, "add"])


@pytest.mark.django_db(transaction=True)
def test_captured_with_transaction(captured_actions):
    raise AssertionError("never reached")
"""

VALIDATE_TESTS = """
from async_actions.testing import test_registered_tasks  # noqa: F401
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # The outer run's settings module must not leak into the sample project's run.
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    write_project(pytester)
    return pytester


def test_fixtures_and_helpers_in_a_users_project(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_worker=WORKER_TESTS,
        test_eager=EAGER_TESTS,
        test_captured=CAPTURED_TESTS,
        test_validate=VALIDATE_TESTS,
    )

    result = project.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")

    result.assert_outcomes(passed=9, failed=1, errors=4)
    result.stdout.fnmatch_lines(
        [
            "*test_forgot_transaction*",
            "*action_worker needs real commits: mark the test "
            "@pytest.mark.django_db(transaction=True). start_action sends its tasks only "
            "when the surrounding transaction commits*rolled back*",
        ]
    )
    result.stdout.fnmatch_lines(["*action_relay needs real commits: mark the test*"])
    result.stdout.fnmatch_lines(
        [
            "*eager_actions works inside the test's own transaction: mark the test "
            "@pytest.mark.django_db (without transaction=True)*",
        ]
    )
    result.stdout.fnmatch_lines(["*captured_actions works inside the test's own transaction*"])
    result.stdout.fnmatch_lines(
        [
            "E*AssertionError: The workflow is not the expected one (> marks the differences):",
            "E*#  expected*actual",
            "E*1  _fetch*shop.tasks._fetch",
            "E*>   2  {_store, add}  shop.tasks._store",
            "E*>   3  add*-",
        ]
    )


def test_validate_tasks_names_each_bad_task_and_the_fix(project: pytest.Pytester) -> None:
    project.path.joinpath("shop", "tasks.py").write_text(BAD_TASKS)
    # A pytest_plugins line and -p as well as the entry point: loaded once, no error.
    project.makeconftest('pytest_plugins = ["async_actions.testing.plugin"]')
    project.makepyfile(test_validate=VALIDATE_TESTS)

    result = project.runpytest_subprocess("-p", "async_actions.testing.plugin")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E*AssertionError: 5 problem(s) with Celery tasks:",
            "E*- shop.tasks.notify_user: its parameter 'user' is annotated User, which is not "
            "a plain value a message can carry. Fix: pass an id *",
            "E*- shop.tasks.strict: its base is BaseErrorHandlerMixin but it does not accept "
            "async_action_report_id. Fix: add **kwargs*",
            "E*- shop.tasks.talk_style: it reads async_action_report_id from its kwargs (the "
            "talk's pattern) without BaseErrorHandlerMixin*Fix: use base=*",
            "E*- shop/tasks.py:28: AA106 task `fetch_page` is only used as a workflow step*"
            "call it `_fetch_page`*",
            "E*- shop/tasks.py:34: AA108 @chainable `sync` returns a dict. Fix: Return the "
            "signatures*",
        ]
    )


def test_validate_tasks_fails_on_an_app_with_no_tasks(project: pytest.Pytester) -> None:
    project.path.joinpath("shop", "tasks.py").write_text("")
    project.makepyfile(test_validate=VALIDATE_TESTS)

    result = project.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["E*- (no task): the Celery app registers no tasks of your own. Fix: call *"]
    )
