"""Starting, retrying and cancelling actions: the writes a caller makes."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from celery.canvas import Signature
from django.db import IntegrityError, router, transaction
from kombu.exceptions import KombuError

from async_actions.cancelling import report_request_cancel
from async_actions.canvas import StepSpec, leaves
from async_actions.errors import InvalidActionError
from async_actions.models import ACTION_MAX_LENGTH, AsyncActionReport, AsyncActionStep, Origin
from async_actions.signatures import check_signature, stamp_task
from async_actions.stored import signature_from_storage, stored_signature
from async_actions.transitions import report_mark_failed

logger = logging.getLogger(__name__)


def _check_action(action: Any) -> str:
    if not isinstance(action, str) or not action.strip():
        raise InvalidActionError(
            f"The action name must be a non-empty string saying what is done, got {action!r}."
        )
    if len(action) > ACTION_MAX_LENGTH:
        raise InvalidActionError(
            f"The action name is {len(action)} characters long; the limit is "
            f"{ACTION_MAX_LENGTH}. Put details in the task's arguments, not in its name."
        )
    return action


def _check_origin(origin: str | None, triggered_by: Any) -> str:
    if origin is None:
        return Origin.USER if triggered_by is not None else Origin.SYSTEM
    if origin not in Origin.values:
        raise InvalidActionError(f"origin must be one of {Origin.values}, got {origin!r}.")
    return origin


def _user_or_none(user: Any) -> Any:
    # An AnonymousUser is no one to record.
    if user is not None and not getattr(user, "is_authenticated", True):
        return None
    return user


def start_action(
    action: str,
    signature: Signature,
    *,
    triggered_by: Any = None,
    origin: str | None = None,
    idempotency_key: str | None = None,
    retry_of: AsyncActionReport | None = None,
) -> AsyncActionReport:
    """Record `action` as pending and send `signature` once the current transaction commits.

    `signature` is one task's signature or a whole canvas (chain, group, chord, nested);
    a canvas is tracked as one action whose every task is a step. A rollback sends
    nothing and leaves no report. With an `idempotency_key` that was used before, the
    existing report is returned and nothing new is sent.
    """
    action = _check_action(action)
    check_signature(signature)
    origin = _check_origin(origin, triggered_by)  # an anonymous user still means origin user
    triggered_by = _user_or_none(triggered_by)
    if idempotency_key is not None and not (isinstance(idempotency_key, str) and idempotency_key):
        raise InvalidActionError("idempotency_key must be a non-empty string or None.")
    stored = stored_signature(signature)  # before ids and stamps: a retry gets its own
    signature = signature.clone()
    try:
        final_task_id = signature.freeze().id
    except NotImplementedError as exc:  # Celery's word for "chords need a result backend"
        raise InvalidActionError(f"This workflow cannot be started: {exc}") from exc
    steps = leaves(signature)  # of the frozen clone: their task ids are set now
    is_workflow = steps[0].signature is not signature

    fields = {
        "action": action,
        "triggered_by": triggered_by,
        "origin": origin,
        "task_name": steps[0].signature.task,
        "task_id": final_task_id,
        "root_task_id": steps[0].signature.id,
        "total_steps": len(steps),
        "idempotency_key": idempotency_key,
        "retry_of": retry_of,
        "signature": stored,
    }
    using = router.db_for_write(AsyncActionReport)
    with transaction.atomic(using=using):
        if idempotency_key is None:
            report = AsyncActionReport.objects.create(**fields)
        else:
            report, created = _create_once(fields, using)
            if not created:
                return report
        if is_workflow:
            create_steps(report, steps)
        for step in steps:
            stamp_task(step.signature, report.pk, step=is_workflow)
        transaction.on_commit(partial(_send, report.pk, signature), using=using)
    return report


def create_steps(
    report: AsyncActionReport, steps: list[StepSpec], *, first_position: int = 0
) -> None:
    AsyncActionStep.objects.bulk_create(
        AsyncActionStep(
            report=report,
            task_id=step.signature.id,
            task_name=step.signature.task,
            position=first_position + step.position,
            branch=step.branch,
        )
        for step in steps
    )


def _create_once(fields: dict[str, Any], using: str) -> tuple[AsyncActionReport, bool]:
    """(report, created): the existing report when its idempotency key was used before."""
    key = fields["idempotency_key"]
    existing = AsyncActionReport.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic(using=using):  # a savepoint: the outer block stays usable
            return AsyncActionReport.objects.create(**fields), True
    except IntegrityError:
        # Another caller with the same key committed first.
        return AsyncActionReport.objects.get(idempotency_key=key), False


def _send(report_id: int, signature: Signature) -> None:
    """Publish after commit; a broker that cannot be reached fails the report, never strands it."""
    try:
        signature.apply_async()
    except (KombuError, OSError) as exc:
        logger.exception("Could not enqueue async action report %s", report_id)
        report_mark_failed(
            report_id=report_id,
            error_type=type(exc).__name__,
            error_message=f"Could not enqueue the task {signature.task!r}: the broker "
            f"could not be reached ({exc}).",
        )


def retry_action(
    report: AsyncActionReport, signature: Signature | None = None, **kwargs: Any
) -> AsyncActionReport:
    """Start the finished `report`'s action again, as a new report with `retry_of` set.

    The signature stored at start is used; passing one (the old way) still works and wins.
    """
    if not report.is_finished:
        raise InvalidActionError(
            f"Report {report.pk} is still {report.status}; only a finished action can be retried."
        )
    if signature is None:
        if report.signature is None:
            raise InvalidActionError(
                f"Report {report.pk} has no stored signature (started before signatures were "
                f"stored, or with arguments JSON cannot carry): pass the signature to retry."
            )
        signature = signature_from_storage(report.signature)
    kwargs.setdefault("triggered_by", report.triggered_by)
    kwargs.setdefault("origin", report.origin)
    return start_action(report.action, signature, retry_of=report, **kwargs)


def cancel_action(report: AsyncActionReport, *, terminate: bool | None = None) -> bool:
    """Ask the action to stop; returns False if it had already finished.

    Steps not started yet never run; a running step is revoked, and its process killed only
    with `terminate=True` (default: the CANCEL_TERMINATES setting). The status becomes
    `cancelled` once a worker has really stopped the work; `cancel_requested_at` says when
    it was asked. See async_actions.cancelling.
    """
    return report_request_cancel(report, terminate=terminate)
