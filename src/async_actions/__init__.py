"""django-async-actions: trustworthy background work for Django + Celery.

The public API is imported lazily, so ``async_actions`` can sit in INSTALLED_APPS
without importing models before Django's app registry is ready.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    # starting and steering actions
    "start_action",
    "start_actions",
    "ActionSpec",
    "retry_action",
    "cancel_action",
    "set_progress",
    # workflows
    "chainable",
    "replace_with",
    # the record
    "AsyncActionReport",
    "AsyncActionStep",
    "Status",
    "StepStatus",
    "Origin",
    # signals sent once a report's state is written
    "report_started",
    "report_retrying",
    "report_finished",
    # the talk's pattern, for code that passes the report id in kwargs
    "BaseErrorHandlerMixin",
    # errors
    "AsyncActionsError",
    "InvalidActionError",
    "IdempotencyConflictError",
    "NotChainableError",
]

_LOCATIONS = {
    "start_action": "async_actions.services",
    "start_actions": "async_actions.services",
    "ActionSpec": "async_actions.services",
    "report_started": "async_actions.signals",
    "report_retrying": "async_actions.signals",
    "report_finished": "async_actions.signals",
    "retry_action": "async_actions.services",
    "cancel_action": "async_actions.services",
    "set_progress": "async_actions.progress",
    "chainable": "async_actions.canvas",
    "replace_with": "async_actions.replacing",
    "AsyncActionStep": "async_actions.models",
    "StepStatus": "async_actions.models",
    "AsyncActionReport": "async_actions.models",
    "Status": "async_actions.models",
    "Origin": "async_actions.models",
    "BaseErrorHandlerMixin": "async_actions.mixins",
    "AsyncActionsError": "async_actions.errors",
    "InvalidActionError": "async_actions.errors",
    "IdempotencyConflictError": "async_actions.errors",
    "NotChainableError": "async_actions.errors",
}


def __getattr__(name: str) -> Any:
    if name in _LOCATIONS:
        return getattr(import_module(_LOCATIONS[name]), name)
    raise AttributeError(f"module 'async_actions' has no attribute {name!r}")


if TYPE_CHECKING:
    from async_actions.canvas import chainable
    from async_actions.errors import (
        AsyncActionsError,
        IdempotencyConflictError,
        InvalidActionError,
        NotChainableError,
    )
    from async_actions.mixins import BaseErrorHandlerMixin
    from async_actions.models import AsyncActionReport, AsyncActionStep, Origin, Status, StepStatus
    from async_actions.progress import set_progress
    from async_actions.replacing import replace_with
    from async_actions.services import (
        ActionSpec,
        cancel_action,
        retry_action,
        start_action,
        start_actions,
    )
    from async_actions.signals import report_finished, report_retrying, report_started
