"""The library's exceptions: one base class, each also a familiar builtin type."""


class AsyncActionsError(Exception):
    """Base class of every error raised by django-async-actions."""


class InvalidActionError(AsyncActionsError, ValueError):
    """`start_action` was called with something it cannot start (nothing was recorded)."""


class NotChainableError(AsyncActionsError, TypeError):
    """A `@chainable` function returned something other than signatures."""


class IdempotencyConflictError(InvalidActionError):
    """An idempotency key was reused for a different action (name, tasks or arguments)."""

    def __init__(self, message: str, *, key: str, report_id: int) -> None:
        super().__init__(message)
        self.key = key
        self.report_id = report_id


class TaskReturnValueError(AsyncActionsError, ValueError):
    """A django.tasks function returned a value that cannot be stored (not JSON, too large)."""


class ActionCancelled(AsyncActionsError):
    """Reported by django.tasks results for an action that was cancelled (never raised)."""


class ActionLost(AsyncActionsError):
    """Reported by django.tasks results for an action whose worker or message was lost."""


class ActionFailed(AsyncActionsError):
    """Reported by django.tasks results for a failure whose exception class is unknown."""
