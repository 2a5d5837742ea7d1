import json
import sys
from typing import Any

from django.apps import AppConfig


class TestAppConfig(AppConfig):
    name = "tests.testapp"
    label = "testapp"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # As a project would: receivers of the library's signals, here writing a row the
        # tests read (they run in the worker, the tests in another process).
        from async_actions import report_finished, report_retrying, report_started

        report_started.connect(_started, dispatch_uid="testapp.started")
        report_retrying.connect(_retrying, dispatch_uid="testapp.retrying")
        report_finished.connect(_finished, dispatch_uid="testapp.finished")
        # DEP 14's own signals, sent on the worker by the CeleryBackend's runner.
        from async_actions.django_tasks._compat import task_finished, task_started

        task_started.connect(_task_started, dispatch_uid="testapp.task_started")
        task_finished.connect(_task_finished, dispatch_uid="testapp.task_finished")


def _record(report_id: int, kind: str, **fields: Any) -> None:
    from tests.testapp.models import SignalRecord

    SignalRecord.objects.create(report_id=report_id, kind=kind, **fields)


def _started(sender: Any, report_id: int, **kwargs: Any) -> None:
    _record(report_id, "started")


def _retrying(sender: Any, report_id: int, error: str, **kwargs: Any) -> None:
    _record(report_id, "retrying", error=error)


def _finished(sender: Any, report_id: int, status: str, **kwargs: Any) -> None:
    _record(report_id, "finished", status=status)


def _task_record(kind: str, sender: Any, task_result: Any) -> None:
    # Everything a receiver is given, in one row the test reads back.
    if not task_result.id:  # a run sent without a report has no result id
        return
    errors = [error.exception_class_path for error in task_result.errors]
    value = task_result._return_value if task_result.status == "SUCCESSFUL" else None
    _record(
        int(task_result.id),
        kind,
        status=str(task_result.status),
        error=json.dumps(
            {
                "sender": sender.__name__,
                "task": task_result.task.module_path,
                "args": task_result.args,
                "kwargs": task_result.kwargs,
                "backend": task_result.backend,
                "worker_ids": task_result.worker_ids,
                "started": task_result.started_at is not None,
                "finished": task_result.finished_at is not None,
                "errors": errors,
                "return_value": value,
                "exc_info": sys.exc_info()[0].__name__ if sys.exc_info()[0] else None,
            }
        ),
    )


def _task_started(sender: Any, task_result: Any, **kwargs: Any) -> None:
    _task_record("task_started", sender, task_result)


def _task_finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
    _task_record("task_finished", sender, task_result)
