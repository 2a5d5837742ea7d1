"""Waiting for what a worker does, with a deadline and a message that says what was seen."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from async_actions.models import AsyncActionReport

T = TypeVar("T")


def wait_for(
    probe: Callable[[], T],
    *,
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Call `probe` until it returns something truthy; return that, or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {what}.")
        time.sleep(interval)


def wait_for_report(
    report: AsyncActionReport | int,
    *,
    statuses: Iterable[str] | None = None,
    timeout: float = 30.0,
) -> AsyncActionReport:
    """Reload the report until its status is one of `statuses` (any finished one by default)."""
    # Imported here: this module is loaded by the plugin before Django's apps are ready.
    from async_actions.models import FINAL_STATUSES, AsyncActionReport

    report_id = report if isinstance(report, int) else report.pk
    wanted = set(FINAL_STATUSES if statuses is None else statuses)
    last: list[AsyncActionReport | None] = [None]

    def probe() -> AsyncActionReport | None:
        last[0] = AsyncActionReport.objects.filter(pk=report_id).first()
        return last[0] if last[0] is not None and last[0].status in wanted else None

    try:
        found = wait_for(
            probe, timeout=timeout, what=f"report {report_id} to reach {sorted(wanted)}"
        )
    except AssertionError as exc:
        seen = last[0]
        state = (
            "it does not exist"
            if seen is None
            else (
                f"it is {seen.status!r} after {seen.attempts} attempt(s); "
                f"error: {seen.error_message or '-'}"
            )
        )
        raise AssertionError(f"{exc} Last seen: {state}.") from None
    assert found is not None  # wait_for returns only a truthy value
    return found
