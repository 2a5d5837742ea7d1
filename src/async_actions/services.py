"""Starting, retrying and cancelling actions: the writes a caller makes."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery.canvas import Signature
from django.db import IntegrityError, router, transaction
from django.utils import timezone

from async_actions.canvas import StepSpec, leaves
from async_actions.errors import InvalidActionError
from async_actions.idempotency import check_key, check_same_action, fingerprint
from async_actions.models import ACTION_MAX_LENGTH, AsyncActionReport, AsyncActionStep, Origin
from async_actions.outbox import report_publish
from async_actions.signatures import REPORT_ID_STAMP, check_signature, stamp_task
from async_actions.transitions import report_mark_cancelled

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
    triggered_by = _user_or_none(triggered_by)
    origin = _check_origin(origin, triggered_by)
    idempotency_key = check_key(idempotency_key)
    shape = fingerprint(signature) if idempotency_key is not None else ""
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
        "fingerprint": shape,
        "not_before": _not_before(signature, steps[0].signature),
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
        transaction.on_commit(partial(report_publish, report, signature), using=using)
    return report


def _not_before(signature: Signature, first: Signature) -> datetime | None:
    """When a worker may first run it (countdown/ETA), for the reaper; None for at once."""
    options = {**first.options, **signature.options}
    if options.get("eta"):
        eta = options["eta"]
        return eta if isinstance(eta, datetime) else datetime.fromisoformat(str(eta))
    if options.get("countdown"):
        return timezone.now() + timedelta(seconds=float(options["countdown"]))
    return None


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
    """(report, created): the existing report when its idempotency key was used before.

    The existing report is returned only for the same action; else IdempotencyConflictError.
    """
    key = fields["idempotency_key"]
    same = partial(
        check_same_action, key=key, action=fields["action"], fingerprint=fields["fingerprint"]
    )
    existing = AsyncActionReport.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return same(existing), False
    try:
        with transaction.atomic(using=using):  # a savepoint: the outer block stays usable
            return AsyncActionReport.objects.create(**fields), True
    except IntegrityError:
        # Another caller with the same key committed first.
        return same(AsyncActionReport.objects.get(idempotency_key=key)), False


def retry_action(
    report: AsyncActionReport, signature: Signature, **kwargs: Any
) -> AsyncActionReport:
    """Start `signature` again as a new action linked to the finished `report`."""
    if not report.is_finished:
        raise InvalidActionError(
            f"Report {report.pk} is still {report.status}; only a finished action can be retried."
        )
    kwargs.setdefault("triggered_by", report.triggered_by)
    kwargs.setdefault("origin", report.origin)
    return start_action(report.action, signature, retry_of=report, **kwargs)


def cancel_action(report: AsyncActionReport, *, reason: str = "Cancelled.") -> bool:
    """Revoke the action's messages and mark it cancelled. Returns False if it had finished."""
    from celery import current_app

    current_app.control.revoke_by_stamped_headers({REPORT_ID_STAMP: [report.pk]})
    current_app.control.revoke(report.task_id)
    return report_mark_cancelled(report_id=report.pk, reason=reason)
