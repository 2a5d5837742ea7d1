"""`set_progress`: a task says how far it is, for the dashboard, the API and the admin.

    @shared_task
    def import_rows(path):
        rows = read(path)
        for done, row in enumerate(rows, start=1):
            store(row)
            set_progress(done, len(rows), message=f"row {done}")

Writes are throttled: at most one per `PROGRESS_MIN_INTERVAL` seconds per task, and always
the last one (current == total), so a tight loop costs a dictionary lookup per call. The
throttle only remembers when this process last wrote for a task; the progress itself lives
in the database. A workflow step's progress goes on its step row, so the workflow's
progress is its done steps plus the running steps' fractions.
"""

from __future__ import annotations

import time

from celery import current_task

from async_actions.conf import aa_settings
from async_actions.errors import InvalidActionError
from async_actions.models import (
    ACTIVE_STATUSES,
    STEP_ACTIVE_STATUSES,
    AsyncActionReport,
    AsyncActionStep,
)
from async_actions.signatures import is_step, report_id_from_stamps

MESSAGE_MAX_LENGTH = 255

# task id -> monotonic time of its last write in this process. Tasks that stop reporting
# before their last call leave an entry: the map is cleared when it grows past this.
_last_write: dict[str, float] = {}
_MAX_REMEMBERED = 1000


def _check(current: object, total: object, message: object) -> None:
    if not isinstance(total, int) or isinstance(total, bool) or total < 1:
        raise InvalidActionError(f"set_progress() needs a total of 1 or more, got {total!r}.")
    if not isinstance(current, int) or isinstance(current, bool) or not 0 <= current <= total:
        raise InvalidActionError(
            f"set_progress() needs 0 <= current <= total ({total}), got current={current!r}."
        )
    if not isinstance(message, str):
        raise InvalidActionError(f"set_progress() message must be a string, got {message!r}.")


def set_progress(current: int, total: int, message: str = "") -> bool:
    """Record that the running tracked task has done `current` of `total`.

    Returns True if it was written now, False if throttled or not in a tracked task (a
    function shared with untracked code may call it freely).
    """
    _check(current, total, message)
    task = current_task
    request = getattr(task, "request", None)
    stamps = getattr(request, "stamps", None)
    report_id = report_id_from_stamps(stamps)
    task_id = getattr(request, "id", None)
    if report_id is None or not task_id:
        return False
    now = time.monotonic()
    finished = current == total
    last = _last_write.get(task_id)
    if not finished and last is not None and now - last < aa_settings.PROGRESS_MIN_INTERVAL:
        return False
    if finished:
        _last_write.pop(task_id, None)
    else:
        if len(_last_write) >= _MAX_REMEMBERED:
            _last_write.clear()
        _last_write[task_id] = now
    _write(report_id, task_id, is_step(stamps), current, total, message[:MESSAGE_MAX_LENGTH])
    return True


def _write(
    report_id: int, task_id: str, step: bool, current: int, total: int, message: str
) -> None:
    reports = AsyncActionReport.objects.filter(pk=report_id, status__in=ACTIVE_STATUSES)
    if step:
        AsyncActionStep.objects.filter(task_id=task_id, status__in=STEP_ACTIVE_STATUSES).update(
            progress_current=current, progress_total=total
        )
        reports.update(progress_message=message)
    else:
        reports.update(progress_current=current, progress_total=total, progress_message=message)
