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


def _record(report_id: int, kind: str, **fields: Any) -> None:
    from tests.testapp.models import SignalRecord

    SignalRecord.objects.create(report_id=report_id, kind=kind, **fields)


def _started(sender: Any, report_id: int, **kwargs: Any) -> None:
    _record(report_id, "started")


def _retrying(sender: Any, report_id: int, error: str, **kwargs: Any) -> None:
    _record(report_id, "retrying", error=error)


def _finished(sender: Any, report_id: int, status: str, **kwargs: Any) -> None:
    _record(report_id, "finished", status=status)
