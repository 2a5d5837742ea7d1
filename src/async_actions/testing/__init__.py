"""The testing kit: pytest fixtures (a pytest plugin, active once the package is installed)
and helpers for your own tests.

Fixtures: ``action_worker`` (a real worker), ``eager_actions`` (run at once, in the test
process), ``captured_actions`` (run nothing, list what started). See docs/testing.md.

Helpers are imported lazily: this package is loaded by pytest before Django is set up.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = [
    # waiting for a worker
    "wait_for",
    "wait_for_report",
    "WorkerProcess",
    # workflows
    "assert_workflow",
    "workflow_shape",
    # validation tests
    "validate_tasks",
    "task_problems",
    "test_registered_tasks",
    # what the fixtures give
    "CapturedAction",
    "CapturedActions",
    "EagerActions",
]

_LOCATIONS = {
    "wait_for": "async_actions.testing.waiting",
    "wait_for_report": "async_actions.testing.waiting",
    "WorkerProcess": "async_actions.testing.worker",
    "assert_workflow": "async_actions.testing.workflow",
    "workflow_shape": "async_actions.testing.workflow",
    "validate_tasks": "async_actions.testing.validation",
    "task_problems": "async_actions.testing.validation",
    "test_registered_tasks": "async_actions.testing.validation",
    "CapturedAction": "async_actions.testing.capture",
    "CapturedActions": "async_actions.testing.capture",
    "EagerActions": "async_actions.testing.eager",
}


def __getattr__(name: str) -> Any:
    if name in _LOCATIONS:
        return getattr(import_module(_LOCATIONS[name]), name)
    raise AttributeError(f"module 'async_actions.testing' has no attribute {name!r}")


if TYPE_CHECKING:
    from async_actions.testing.capture import CapturedAction, CapturedActions
    from async_actions.testing.eager import EagerActions
    from async_actions.testing.validation import (
        task_problems,
        test_registered_tasks,
        validate_tasks,
    )
    from async_actions.testing.waiting import wait_for, wait_for_report
    from async_actions.testing.worker import WorkerProcess
    from async_actions.testing.workflow import assert_workflow, workflow_shape
