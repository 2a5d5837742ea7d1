"""Starting, retrying and cancelling actions: the writes a caller makes.

`start_action` is the hot path of every caller, so a plain single-task start costs what
the hand-written pattern costs: one INSERT (no transaction of its own, no read) and one
publish, which Django runs at once in autocommit and after the caller's commit otherwise.
With PUBLISH = "relay" the INSERT keeps the message in the report's outbox and the caller
publishes nothing: a relay does (async_actions.outbox).
Everything else (steps, idempotency keys, many actions at once) takes one transaction.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery.canvas import Signature
from django.db import IntegrityError, router, transaction
from django.utils import timezone

from async_actions._celery_internals import freeze_task, plain_task
from async_actions.cancelling import report_request_cancel
from async_actions.canvas import StepSpec, leaves, plain_chain_tasks
from async_actions.errors import InvalidActionError
from async_actions.idempotency import check_key, check_same_action, fingerprint
from async_actions.inserting import insert_many, insert_report, insert_values, new_report
from async_actions.models import ACTION_MAX_LENGTH, AsyncActionReport, AsyncActionStep, Origin
from async_actions.outbox import (
    outbox_entry,
    publishes_by_relay,
    report_publish,
    reports_publish,
)
from async_actions.signals import action_started
from async_actions.signatures import check_signature, stamp_steps, stamp_task
from async_actions.stored import signature_from_storage, stored_signature

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionSpec:
    """One action for `start_actions`: the same arguments `start_action` takes."""

    action: str
    signature: Signature
    triggered_by: Any = None
    origin: str | None = None
    idempotency_key: str | None = None
    retry_of: AsyncActionReport | None = None


@dataclass
class _Prepared:
    """A checked action, ready to record: its report's fields and its frozen signature."""

    fields: dict[str, Any]
    signature: Signature
    steps: list[StepSpec]
    is_workflow: bool
    # Left to the relay (PUBLISH = "relay"): the message is in the report's outbox.
    relayed: bool

    @property
    def needs_transaction(self) -> bool:
        return self.is_workflow or self.fields["idempotency_key"] is not None


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


def _prepare(spec: ActionSpec) -> _Prepared:
    """Check everything and build the report's fields: the one place that knows them."""
    action = _check_action(spec.action)
    # Stored before ids and stamps (a retry gets its own); encoding it checks the arguments.
    stored = stored_signature(spec.signature) if isinstance(spec.signature, Signature) else None
    steps = check_signature(spec.signature, json_encodable=stored is not None)
    origin = _check_origin(spec.origin, spec.triggered_by)  # an anonymous user means origin user
    triggered_by = _user_or_none(spec.triggered_by)
    key = check_key(spec.idempotency_key)
    is_workflow = steps[0].signature is not spec.signature
    if is_workflow:
        signature = spec.signature.clone()
        tasks = plain_chain_tasks(signature)
        if tasks is not None:
            # Ids set on its tasks now: Celery's freeze would build a result per task, and
            # publishing the chain freezes it all again.
            final_task_id = [freeze_task(task) for task in tasks][-1]
        else:
            try:
                final_task_id = signature.freeze().id
            except NotImplementedError as exc:  # Celery's word for "chords need a result backend"
                raise InvalidActionError(f"This workflow cannot be started: {exc}") from exc
        steps = leaves(signature)  # of the frozen clone: their task ids are set now
        _check_own_task_ids(steps)
    else:
        # One task: a copy with its own options, so the caller's signature stays unchanged.
        signature = spec.signature.clone()
        final_task_id = (
            freeze_task(signature) if plain_task(signature) else signature.freeze().id
        )
        steps = [StepSpec(signature=signature, position=0, branch="")]
    fields = {
        "action": action,
        "triggered_by": triggered_by,
        "origin": origin,
        "task_name": steps[0].signature.task,
        "task_id": final_task_id,
        "root_task_id": steps[0].signature.id,
        "total_steps": len(steps),
        "idempotency_key": key,
        "retry_of": spec.retry_of,
        # What the key stands for: the same key for another action is a conflict.
        "fingerprint": fingerprint(spec.signature) if key is not None else "",
        "not_before": _not_before(signature, steps[0].signature),
        "signature": stored,
    }
    relayed = publishes_by_relay(signature.app)
    if relayed:  # the message, before its stamps: the relay stamps it with the report's id
        fields["sent_at"] = None
        fields["outbox"] = outbox_entry(signature, workflow=is_workflow)
    else:
        # Due right after the commit; the outbox sets it back to NULL if the broker
        # does not take the message (see async_actions.outbox).
        fields["sent_at"] = timezone.now()
        fields["outbox"] = ""  # every start's fields have the same names (start_actions)
    return _Prepared(
        fields=fields,
        signature=signature,
        steps=steps,
        is_workflow=is_workflow,
        relayed=relayed,
    )


def _check_own_task_ids(steps: Sequence[StepSpec]) -> None:
    seen: set[str] = set()
    for step in steps:
        task_id = str(step.signature.id)
        if task_id in seen:
            raise InvalidActionError(
                f"Two tasks of this workflow have the task id {task_id!r}: each task needs "
                "its own (set none and Celery makes one)."
            )
        seen.add(task_id)


def _not_before(signature: Signature, first: Signature) -> datetime | None:
    """When a worker may first run it (countdown/ETA), for the reaper; None for at once."""
    options = signature.options if first is signature else {**first.options, **signature.options}
    if options.get("eta"):
        eta = options["eta"]
        return eta if isinstance(eta, datetime) else datetime.fromisoformat(str(eta))
    if options.get("countdown"):
        return timezone.now() + timedelta(seconds=float(options["countdown"]))
    return None


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
    prepared = _prepare(
        ActionSpec(action, signature, triggered_by, origin, idempotency_key, retry_of)
    )
    using = router.db_for_write(AsyncActionReport)
    if not prepared.needs_transaction:
        # One INSERT; in autocommit Django runs the on_commit publish right away.
        report = new_report(prepared.fields)
        insert_report(report, using, given=prepared.fields)
        stamp_task(prepared.signature, report.pk, step=False)
        if not prepared.relayed:
            transaction.on_commit(
                partial(report_publish, report, prepared.signature), using=using
            )
        action_started.send(sender=AsyncActionReport, report=report, signature=prepared.signature)
        return report
    with transaction.atomic(using=using):
        key = prepared.fields["idempotency_key"]
        if key is None:
            report = new_report(prepared.fields)
            insert_report(report, using, given=prepared.fields)
        else:
            report, created = _create_once(prepared.fields, using)
            if not created:
                return report
        _record_steps_and_stamp([(report, prepared)])
        if not prepared.relayed:
            transaction.on_commit(
                partial(report_publish, report, prepared.signature), using=using
            )
    action_started.send(sender=AsyncActionReport, report=report, signature=prepared.signature)
    return report


def start_actions(specs: Iterable[ActionSpec]) -> list[AsyncActionReport]:
    """Start many actions: one transaction, one INSERT of their reports, one publish connection.

    Returns their reports in the order given (for a reused idempotency key, the existing
    report, and nothing is sent for it). Every item is checked as `start_action` checks
    it before anything is written: one bad item rejects the whole call, naming it.
    """
    specs = list(specs)
    prepared: list[_Prepared] = []
    keys: dict[str, int] = {}
    step_task_ids: dict[str, int] = {}
    for index, spec in enumerate(specs):
        if not isinstance(spec, ActionSpec):
            raise InvalidActionError(
                f"start_actions() item {index} must be an ActionSpec, got {type(spec).__name__}."
            )
        try:
            item = _prepare(spec)
            key = item.fields["idempotency_key"]
            if key is not None and key in keys:
                raise InvalidActionError(
                    f"idempotency_key {key!r} is also used by item {keys[key]} of this call."
                )
            for step in item.steps if item.is_workflow else ():
                task_id = str(step.signature.id)
                if step_task_ids.setdefault(task_id, index) != index:
                    raise InvalidActionError(
                        f"task id {task_id!r} is also a task of item "
                        f"{step_task_ids[task_id]} of this call."
                    )
        except InvalidActionError as exc:
            raise InvalidActionError(
                f"start_actions() item {index} ({spec.action!r}): {exc}"
            ) from exc
        if key is not None:
            keys[key] = index
        prepared.append(item)
    if not prepared:
        return []
    using = router.db_for_write(AsyncActionReport)
    with transaction.atomic(using=using):
        reports, new = _create_many(prepared, keys, using)
        _record_steps_and_stamp(new)
        sends = [(report, item.signature) for report, item in new if not item.relayed]
        if sends:
            transaction.on_commit(partial(reports_publish, sends), using=using)
    for report, item in new:
        action_started.send(sender=AsyncActionReport, report=report, signature=item.signature)
    return reports


def _create_many(
    prepared: Sequence[_Prepared], keys: dict[str, int], using: str
) -> tuple[list[AsyncActionReport], list[tuple[AsyncActionReport, _Prepared]]]:
    """(every item's report, the new ones with their item): one INSERT for all new reports."""
    while True:
        existing = (
            {
                r.idempotency_key: r
                for r in AsyncActionReport.objects.filter(idempotency_key__in=keys)
            }
            if keys
            else {}
        )
        reports: list[AsyncActionReport] = []
        new: list[tuple[AsyncActionReport, _Prepared]] = []
        for item in prepared:
            old = existing.get(item.fields["idempotency_key"])
            if old is not None:
                reports.append(_same_action(old, item.fields))
            else:
                report = new_report(item.fields)
                reports.append(report)
                new.append((report, item))
        try:
            with transaction.atomic(using=using):  # a savepoint: a lost key race is retried
                # Every item's fields have the same names (_prepare builds them all alike).
                insert_many([report for report, _ in new], using, given=prepared[0].fields)
        except IntegrityError:
            if not keys:
                raise
            continue  # another caller committed one of our keys first: read them again
        return reports, new


# The unique constraint on a step's task id, as PostgreSQL and SQLite name its violation.
_STEP_TASK_ID_TAKEN = re.compile(r"aa_step_task_id_unique|asyncactionstep\.task_id")


def _record_steps_and_stamp(items: Sequence[tuple[AsyncActionReport, _Prepared]]) -> None:
    steps = [
        {
            "report": report.pk,
            "task_id": str(step.signature.id),
            "task_name": str(step.signature.task),
            "position": step.position,
            "branch": step.branch,
        }
        for report, item in items
        if item.is_workflow
        for step in item.steps
    ]
    try:  # inside the start's transaction, which an error here rolls back whole
        insert_values(AsyncActionStep, router.db_for_write(AsyncActionStep), steps)
    except IntegrityError as exc:
        if not _STEP_TASK_ID_TAKEN.search(str(exc)):
            raise
        raise InvalidActionError(
            "A task of this workflow has a task id that a step of an earlier action already "
            "has: set none (Celery makes a new one for each start) or one of your own that "
            f"is new ({exc})."
        ) from exc
    for report, item in items:
        if item.is_workflow:
            stamp_steps(item.steps, report.pk)
        else:
            stamp_task(item.signature, report.pk, step=False)


def _same_action(existing: AsyncActionReport, fields: dict[str, Any]) -> AsyncActionReport:
    """The report of a reused key, if it is the same action; else IdempotencyConflictError."""
    return check_same_action(
        existing,
        key=fields["idempotency_key"],
        action=fields["action"],
        fingerprint=fields["fingerprint"],
    )


def _create_once(fields: dict[str, Any], using: str) -> tuple[AsyncActionReport, bool]:
    """(report, created): the existing report when its idempotency key was used before."""
    key = fields["idempotency_key"]
    existing = AsyncActionReport.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _same_action(existing, fields), False
    try:
        with transaction.atomic(using=using):  # a savepoint: the outer block stays usable
            return AsyncActionReport.objects.create(**fields), True
    except IntegrityError:
        # Another caller with the same key committed first.
        return _same_action(AsyncActionReport.objects.get(idempotency_key=key), fields), False


def retry_action(
    report: AsyncActionReport,
    signature: Signature | None = None,
    *,
    triggered_by: Any = None,
    origin: str | None = None,
    idempotency_key: str | None = None,
) -> AsyncActionReport:
    """Start the finished `report`'s action again, as a new report with `retry_of` set.

    The signature stored at start is used; passing one still works and wins. Who and
    where default to the original report's.
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
    return start_action(
        report.action,
        signature,
        triggered_by=report.triggered_by if triggered_by is None else triggered_by,
        origin=report.origin if origin is None else origin,
        idempotency_key=idempotency_key,
        retry_of=report,
    )


def cancel_action(report: AsyncActionReport, *, terminate: bool | None = None) -> bool:
    """Ask the action to stop; returns False if it had already finished.

    Steps not started yet never run; a running step is revoked, and its process killed only
    with `terminate=True` (default: the CANCEL_TERMINATES setting). The status becomes
    `cancelled` once a worker has really stopped the work; `cancel_requested_at` says when
    it was asked. See async_actions.cancelling.
    """
    return report_request_cancel(report, terminate=terminate)
