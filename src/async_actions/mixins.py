"""The talk's `BaseErrorHandlerMixin`, for tasks that receive the report id in their kwargs.

    class SomeBaseTask(BaseErrorHandlerMixin, Task): ...

    @shared_task(base=SomeBaseTask)
    def some_task(arg1, arg2, **kwargs): ...

    some_task.delay(1, 2, async_action_report_id=report.id)

Unlike the talk's version it also records running and retrying, keeps the same race-safe
moves as tracked tasks, scrubs secrets, and tolerates a missing id (the talk's raises
KeyError inside the failure handler, hiding the task's own error). New code should use
`start_action`, which needs no change to the task at all.
"""

from __future__ import annotations

from typing import Any

from async_actions.tracker import get_tracker

REPORT_ID_KWARG = "async_action_report_id"


def _report_id(kwargs: dict[str, Any] | None) -> int | None:
    value = (kwargs or {}).get(REPORT_ID_KWARG)
    return int(value) if value is not None else None


class BaseErrorHandlerMixin:
    request: Any

    def before_start(self, task_id: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        report_id = _report_id(kwargs)
        if report_id is not None:
            get_tracker().start(report_id=report_id, attempt=self.request.retries + 1)

    def on_retry(
        self,
        exc: BaseException,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: Any,
    ) -> None:
        report_id = _report_id(kwargs)
        if report_id is not None:
            get_tracker().retry(
                report_id=report_id,
                attempt=self.request.retries + 1,
                error=f"{type(exc).__name__}: {exc}",
            )

    def on_success(
        self, retval: Any, task_id: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        report_id = _report_id(kwargs)
        if report_id is not None:
            get_tracker().succeed(report_id=report_id, attempt=self.request.retries + 1)

    def on_failure(
        self,
        exc: BaseException,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: Any,
    ) -> None:
        report_id = _report_id(kwargs)
        if report_id is not None:
            get_tracker().fail(
                report_id=report_id,
                error_type=type(exc).__name__,
                error_message=str(exc),
                error_traceback=str(einfo),
            )
