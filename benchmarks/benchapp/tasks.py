from typing import Any

from celery import Task, shared_task


@shared_task
def noop() -> None:
    return None


@shared_task(ignore_result=False)
def noop_with_result() -> None:
    return None


@shared_task(ignore_result=False)
def summary(results: list) -> int:
    return len(results)


class TalkBaseTask(Task):
    """The talk's hand-written pattern: the task's hooks update the report the caller made."""

    def on_success(self, retval: Any, task_id: str, args: Any, kwargs: Any) -> None:
        from async_actions.models import AsyncActionReport

        AsyncActionReport.objects.filter(pk=kwargs["async_action_report_id"]).update(status="ok")

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        from async_actions.models import AsyncActionReport

        AsyncActionReport.objects.filter(pk=kwargs["async_action_report_id"]).update(
            status="failed", error_message=str(exc), error_traceback=str(einfo)
        )


@shared_task(base=TalkBaseTask)
def talk_noop(**kwargs: Any) -> None:
    return None
