"""start_action: what it records, when it publishes, and what it refuses."""

import datetime

import pytest
from celery import chain
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction

from async_actions import (
    AsyncActionReport,
    AsyncActionStep,
    InvalidActionError,
    Origin,
    Status,
    start_action,
)
from async_actions.testing import wait_for_report
from tests.testapp import tasks
from tests.testapp.models import Marker

pytestmark = pytest.mark.django_db(transaction=True)


def test_returns_a_pending_report_with_who_and_what():
    user = User.objects.create_user("ana")

    report = start_action("Sync invoices", tasks.noop.s(), triggered_by=user)

    assert report.pk is not None
    assert report.status == Status.PENDING
    assert report.triggered_by == user
    assert report.origin == Origin.USER
    assert report.task_id and report.root_task_id == report.task_id


def test_origin_defaults_to_system_without_a_user():
    report = start_action("Nightly", tasks.noop.s())

    assert (report.triggered_by, report.origin) == (None, Origin.SYSTEM)


def test_an_anonymous_visitor_is_a_user_origin_with_no_user_recorded():
    # A person clicked, even if we do not know who: not the system.
    report = start_action("Subscribe", tasks.noop.s(), triggered_by=AnonymousUser())

    assert (report.triggered_by, report.origin) == (None, Origin.USER)


@pytest.mark.usefixtures("async_actions_worker")
def test_the_task_runs_only_after_the_transaction_commits():
    with transaction.atomic():
        report = start_action("After commit", tasks.create_marker.s("after-commit"))
        # Still inside the transaction: nothing was sent yet.
        assert not Marker.objects.filter(name="after-commit").exists()

    assert wait_for_report(report).status == Status.OK
    assert Marker.objects.filter(name="after-commit").count() == 1


@pytest.mark.usefixtures("async_actions_worker")
def test_a_rollback_publishes_nothing_and_leaves_no_report():
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        start_action("Rolled back", tasks.create_marker.s("rolled-back"))
        raise Abort

    # A later action on the same queue has run, so the first would have too.
    later = wait_for_report(start_action("Later", tasks.create_marker.s("later", 0.2)))
    assert later.status == Status.OK
    assert not Marker.objects.filter(name="rolled-back").exists()
    assert list(AsyncActionReport.objects.values_list("action", flat=True)) == ["Later"]


@pytest.mark.usefixtures("async_actions_worker")
def test_the_same_idempotency_key_returns_the_first_report_and_runs_once():
    first = start_action("Import", tasks.create_marker.s("import"), idempotency_key="import-42")
    second = start_action("Import", tasks.create_marker.s("import"), idempotency_key="import-42")

    assert second.pk == first.pk
    wait_for_report(first)
    later = wait_for_report(start_action("Later", tasks.noop.s()))
    assert later.status == Status.OK
    assert Marker.objects.filter(name="import").count() == 1
    assert AsyncActionReport.objects.filter(idempotency_key="import-42").count() == 1


class Unserializable:
    pass


@pytest.mark.parametrize(
    ("action", "signature_factory", "message"),
    [
        ("", lambda: tasks.noop.s(), "non-empty string"),
        ("   ", lambda: tasks.noop.s(), "non-empty string"),
        (None, lambda: tasks.noop.s(), "non-empty string"),
        ("x" * 256, lambda: tasks.noop.s(), "256 characters long; the limit is 255"),
        ("Not a signature", lambda: tasks.noop, "needs a Celery signature"),
        ("Not a signature", lambda: "tests.testapp.tasks.noop", "got str"),
        ("Unregistered", lambda: _unregistered(), "not registered"),
        (
            "Unencodable",
            lambda: tasks.add.s(Unserializable(), 1),
            "cannot be encoded with the 'json'",
        ),
        ("Unencodable", lambda: tasks.add.s(datetime.UTC, 1), "cannot be encoded"),
    ],
)
def test_bad_input_raises_a_clear_error_and_records_nothing(action, signature_factory, message):
    with pytest.raises(InvalidActionError, match=message):
        start_action(action, signature_factory())

    assert AsyncActionReport.objects.count() == 0


def _unregistered():
    from celery import signature

    return signature("no.such.task", args=(1,))


def test_bad_origin_and_idempotency_key_are_refused():
    with pytest.raises(InvalidActionError, match="origin must be one of"):
        start_action("Bad origin", tasks.noop.s(), origin="cron")
    with pytest.raises(InvalidActionError, match="idempotency_key"):
        start_action("Bad key", tasks.noop.s(), idempotency_key="")
    assert AsyncActionReport.objects.count() == 0


def test_a_task_id_used_twice_in_a_workflow_is_refused_and_records_nothing():
    twice = chain(tasks.noop.si().set(task_id="same"), tasks.noop.si().set(task_id="same"))

    with pytest.raises(
        InvalidActionError, match="Two tasks of this workflow have the task id 'same'"
    ):
        start_action("Twice", twice)

    assert not AsyncActionReport.objects.exists() and not AsyncActionStep.objects.exists()


def test_a_task_id_an_earlier_workflow_has_is_refused_and_records_nothing():
    def workflow():
        return chain(tasks.noop.si().set(task_id="taken"), tasks.noop.si())

    start_action("First", workflow())

    with pytest.raises(InvalidActionError, match="a step of an earlier action already has"):
        start_action("Second", workflow())

    assert list(AsyncActionReport.objects.values_list("action", flat=True)) == ["First"]
    assert AsyncActionStep.objects.count() == 2


def test_invalid_action_error_is_a_value_error():
    with pytest.raises(ValueError):
        start_action("", tasks.noop.s())


def test_a_single_task_start_is_one_statement_and_no_transaction(django_assert_num_queries):
    with django_assert_num_queries(1) as captured:
        start_action("One insert", tasks.noop.s())

    assert captured.captured_queries[0]["sql"].startswith("INSERT")


def test_inside_the_callers_transaction_it_is_one_statement_too(django_assert_num_queries):
    with transaction.atomic(), django_assert_num_queries(1):
        start_action("One insert", tasks.noop.s())
