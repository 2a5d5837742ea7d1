"""Record what `start_action` starts, and run nothing: fast tests of views and services."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from celery.canvas import Signature

from async_actions.canvas import leaves
from async_actions.signals import action_started
from async_actions.testing.workflow import Position, workflow_shape

_UID = "async_actions.testing.capture"


@dataclass(frozen=True)
class TaskCall:
    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class CapturedAction:
    report: Any  # the AsyncActionReport start_action recorded (pending; it never runs)
    signature: Signature

    @property
    def action(self) -> str:
        return str(self.report.action)

    @property
    def triggered_by(self) -> Any:
        return self.report.triggered_by

    @property
    def origin(self) -> str:
        return str(self.report.origin)

    @property
    def calls(self) -> list[TaskCall]:
        """Every task, in workflow order, with the arguments it was given."""
        return [
            TaskCall(
                str(step.signature.task), tuple(step.signature.args), dict(step.signature.kwargs)
            )
            for step in leaves(self.signature)
        ]

    @property
    def task_names(self) -> list[str]:
        return [call.name for call in self.calls]

    @property
    def shape(self) -> list[Position]:
        """As `assert_workflow` sees it: names in order, a set for tasks that run at once."""
        return workflow_shape(self.signature)


class CapturedActions:
    """The actions started so far in this test, in start order (a list of CapturedAction)."""

    def __init__(self) -> None:
        self._started: list[CapturedAction] = []

    def _record(self, sender: Any, report: Any, signature: Signature, **kwargs: Any) -> None:
        self._started.append(CapturedAction(report=report, signature=signature))

    @property
    def actions(self) -> list[CapturedAction]:
        # A start inside a block that was rolled back left no report, and in real life
        # sent nothing: it is not listed.
        from async_actions.models import AsyncActionReport

        alive = set(
            AsyncActionReport.objects.filter(
                pk__in=[captured.report.pk for captured in self._started]
            ).values_list("pk", flat=True)
        )
        return [captured for captured in self._started if captured.report.pk in alive]

    def __iter__(self) -> Iterator[CapturedAction]:
        return iter(self.actions)

    def __len__(self) -> int:
        return len(self.actions)

    def __getitem__(self, index: int) -> CapturedAction:
        return self.actions[index]

    def named(self, action: str) -> list[CapturedAction]:
        return [captured for captured in self.actions if captured.action == action]


@contextmanager
def captured_actions() -> Iterator[CapturedActions]:
    """Within the block (inside a transaction that is never committed), list what starts."""
    captured = CapturedActions()
    action_started.connect(captured._record, weak=False, dispatch_uid=_UID)
    try:
        yield captured
    finally:
        action_started.disconnect(dispatch_uid=_UID)
