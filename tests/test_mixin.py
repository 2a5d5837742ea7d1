"""The talk's pattern (report id in kwargs) through BaseErrorHandlerMixin, on a real worker."""

import pytest

from async_actions import AsyncActionReport, Status
from async_actions.testing import wait_for_report
from tests.testapp import tasks

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("async_actions_worker"),
]


def test_success_and_failure_are_recorded_from_the_kwarg():
    ok = AsyncActionReport.objects.create(action="Talk ok")
    failed = AsyncActionReport.objects.create(action="Talk failed")

    tasks.talk_style.delay(async_action_report_id=ok.id)
    tasks.talk_style.delay(True, async_action_report_id=failed.id)

    assert wait_for_report(ok).status == Status.OK
    failed = wait_for_report(failed)
    assert failed.status == Status.FAILED
    assert failed.error_message == "third party said no"
    assert "RuntimeError" in failed.error_traceback


def test_a_missing_report_id_is_tolerated():
    # The talk's mixin raised KeyError here, inside the failure handler, hiding the task's error.
    other = AsyncActionReport.objects.create(action="Untouched")
    task = tasks.talk_style

    task.on_failure(RuntimeError("boom"), "task-id", (), {}, None)
    task.on_success("ok", "task-id", (), {"unrelated": 1})

    other.refresh_from_db()
    assert other.status == Status.PENDING
