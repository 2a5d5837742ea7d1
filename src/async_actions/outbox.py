"""Publishing a started action, and the outbox of those the broker did not take.

Publishing is total: whatever goes wrong is recorded on that report and never stops the
other publishes of the same commit.

- The broker accepted the message: `sent_at` stays as `start_action` wrote it in its one
  INSERT (the time the publish was due, right after the commit). Writing it after the
  publish would cost every start a second statement; the price is that a caller killed
  between its commit and its publish leaves a report that says sent but never runs - the
  reaper marks it lost after LOST_AFTER.
- The broker could not be reached: the report stays `pending` with `sent_at` NULL, the
  error in `send_error` and the message (kombu JSON) in `outbox`, for `reports_relay` to
  publish later. The caller is not blocked: the publish is tried once, without retries.
- Anything else (a serializer error, a bug in a custom Task.apply_async): the report fails
  with that error, since publishing it again would fail the same way.

With `PUBLISH = "relay"` every start goes through the outbox: its one INSERT writes the
message too (`sent_at` NULL) and the caller publishes nothing; `relay_forever` (the
`async_actions_relay --follow` command) publishes them in batches. The INSERT cannot know
the report's id, so such a message is kept unstamped and the relay stamps it.

`reports_relay` claims unsent reports so that several relays at once publish each exactly
once: `SELECT ... FOR UPDATE SKIP LOCKED` where the database has it (PostgreSQL), else a
conditional UPDATE that only one relay can win (SQLite serializes writers).
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, cast

from celery import Celery, current_app
from celery.canvas import Signature
from celery.canvas import signature as rebuild_signature
from django.db import DatabaseError, connections, router, transaction
from django.db.models import QuerySet
from django.utils import timezone
from kombu.exceptions import KombuError
from kombu.utils.json import dumps, loads

from async_actions._celery_internals import plain_task, publish_task
from async_actions.canvas import leaves
from async_actions.cleansing import cleanse_text, cleanse_texts
from async_actions.conf import aa_settings
from async_actions.models import AsyncActionReport, Status
from async_actions.signatures import stamp_steps, stamp_task

logger = logging.getLogger(__name__)

# Broker commands one message can take in a batch: kombu's Redis transport sends an LPUSH,
# plus a PEXPIRE per priority step for a queue with an expiry (x-expires).
COMMANDS_PER_MESSAGE = 16

# Set in a process whose publish failed: its next successful publish relays the outbox.
_relay_wanted = False

# The values of the PUBLISH setting.
PUBLISH_AT_COMMIT = "commit"
PUBLISH_BY_RELAY = "relay"
PUBLISH_CHOICES = (PUBLISH_AT_COMMIT, PUBLISH_BY_RELAY)

# An outbox entry written by a start (PUBLISH = "relay") is this envelope around the
# signature, naming how the relay stamps it; an entry written after a failed publish is
# the stamped signature itself.
UNSTAMPED = "aa_unstamped"

# Seconds a following relay waits after a pass the broker did not take, at most.
RELAY_BACKOFF_MAX = 10.0


def publishes_by_relay(app: Celery) -> bool:
    """Whether starts leave their message to the relay (not with Celery's eager mode:
    there the caller runs the task at once, as ever)."""
    return aa_settings.PUBLISH == PUBLISH_BY_RELAY and not app.conf.task_always_eager


def outbox_entry(signature: Signature, *, workflow: bool) -> str:
    """The outbox text of a start's message, before its stamps (the relay adds them)."""
    return str(dumps({UNSTAMPED: "step" if workflow else "report", "signature": signature}))


def _outbox_signature(app: Celery, report: AsyncActionReport) -> Signature:
    """The message an outbox entry holds, stamped with its report's id."""
    data = loads(report.outbox)
    kind = data.get(UNSTAMPED) if isinstance(data, dict) else None
    if kind is None:  # kept after a failed publish: stamped already
        return rebuild_signature(data, app=app)
    signature = rebuild_signature(data["signature"], app=app)
    if kind == "step":
        stamp_steps(leaves(signature), report.pk)
    else:
        stamp_task(signature, report.pk, step=False)
    return signature


def _broker_errors(app: Celery) -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the broker is unreachable", for this app's transport."""
    connection = app.connection_for_write()
    try:
        return (KombuError, OSError, *connection.connection_errors, *connection.channel_errors)
    finally:
        connection.release()


def _connected(producer: Any) -> Any:
    """`producer`, its connection tried twice at once if it has none (never kombu's 4 s)."""
    connection = producer.connection
    if not connection.connected:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
    return producer


def _one_batch(producer: Any, messages: int) -> AbstractContextManager[Any]:
    """Publish many messages in one go where the transport can (kombu >= 5.7, Redis).

    Redis then gets one pipelined round trip for all of them instead of one each (and kombu
    builds one Redis client, not one per message). The batch is made big enough never to
    flush before its end, so a failed flush concerns every message of the call: they may
    have reached Redis or not, and the outbox sends them again (delivery is at least once,
    see docs/reliability.md). Elsewhere messages go out one by one.
    """
    batch = getattr(producer, "batch", None)
    if messages < 2 or batch is None:
        return nullcontext()
    return cast(AbstractContextManager[Any], batch(max_size=messages * COMMANDS_PER_MESSAGE))


def _publish(signature: Signature, producer: Any = None) -> None:
    """Publish once, no retry policy: a down broker must not block the caller.

    Celery's default retry policy waits ~0.6 s per publish, and kombu retries a connection
    for `broker_connection_timeout` (4 s) before that; a broker error here is for the
    outbox to handle.
    """
    if producer is not None and plain_task(signature):
        publish_task(signature, retry=False, producer=producer)
        return
    if producer is not None and type(signature) is Signature:
        signature.apply_async(retry=False, producer=producer)
        return
    with signature.app.producer_or_acquire() as own:
        signature.apply_async(retry=False, producer=_connected(own))


def report_publish(report: AsyncActionReport, signature: Signature) -> bool:
    """Publish `signature` for `report` (after commit); True if the broker took it.

    `report` is updated in memory too, so the object `start_action` returned tells the truth.
    """
    return bool(reports_publish([(report, signature)]))


def reports_publish(sends: Sequence[tuple[AsyncActionReport, Signature]]) -> int:
    """Publish many over one producer connection; each failure is recorded on its report.

    Returns how many the broker took.
    """
    global _relay_wanted
    app = sends[0][1].app
    if app.conf.task_always_eager:  # run here and now (tests): no broker to connect to
        for _, signature in sends:
            signature.apply_async()
        return len(sends)
    sent = _publish_all(app, sends)
    if sent and _relay_wanted:
        _relay_wanted = False
        reports_relay(app=app, limit=100)
    return len(sent)


def _publish_all(
    app: Celery, sends: Sequence[tuple[AsyncActionReport, Signature]]
) -> list[AsyncActionReport]:
    """Publish in one batch over one connection; the reports the broker took.

    Total: each failure is recorded on its report, none is raised.
    """
    sent: list[AsyncActionReport] = []
    try:
        with app.producer_or_acquire() as producer:
            _connected(producer)
            published: list[AsyncActionReport] = []
            with _one_batch(producer, len(sends)):
                for report, signature in sends:
                    try:
                        _publish(signature, producer)
                    except Exception as exc:  # total: recorded on the report, never raised
                        _record_failure(report, signature, exc)
                    else:
                        published.append(report)
            sent = published  # the batch is flushed: the broker has them
    except Exception as exc:  # no connection, or the batch's flush failed: each gets the error
        taken = {id(report) for report in sent}
        for report, signature in sends:
            if id(report) in taken or report.send_error or report.status != Status.PENDING:
                continue
            _record_failure(report, signature, exc)
    return sent


def _record_failure(report: AsyncActionReport, signature: Signature, exc: Exception) -> None:
    global _relay_wanted
    described = f"{type(exc).__name__}: {exc}"
    if exc.__cause__ is not None:  # e.g. kombu's BatchPublishError says why only in its cause
        described += f" ({type(exc.__cause__).__name__}: {exc.__cause__})"
    if isinstance(exc, _broker_errors(signature.app)):
        logger.warning("Broker unreachable, report %s kept in the outbox: %s", report.pk, exc)
        _relay_wanted = True
        _update(report, sent_at=None, send_error=cleanse_text(described), outbox=dumps(signature))
        return
    logger.exception("Could not publish async action report %s", report.pk)
    _fail_unsendable(report, f"Could not publish the task {signature.task!r}: {described}", exc)


def _fail_unsendable(report: AsyncActionReport, described: str, exc: Exception) -> None:
    """Fail the report for good: publishing it again would fail the same way."""
    message, trace = cleanse_texts(described, traceback.format_exc())
    _update(
        report,
        sent_at=None,
        status=Status.FAILED,
        finished_at=timezone.now(),
        not_before=None,  # final: the reaper need not find it (async_actions.parking)
        error_type=type(exc).__name__[:255],
        error_message=message[: aa_settings.ERROR_MESSAGE_MAX_CHARS],
        error_traceback=trace[-aa_settings.TRACEBACK_MAX_CHARS :],
        send_error=message[: aa_settings.ERROR_MESSAGE_MAX_CHARS],
    )


def _update(report: AsyncActionReport, *, pending_only: bool = True, **fields: Any) -> None:
    """Write `fields` (while the report is still pending); mirror them on the object."""
    reports = AsyncActionReport.objects.filter(pk=report.pk)
    try:
        (reports.filter(status=Status.PENDING) if pending_only else reports).update(**fields)
    except DatabaseError:
        # The message's fate cannot be recorded now; the reaper finds the report later.
        logger.exception("Could not record the publish of report %s", report.pk)
        return
    for name, value in fields.items():
        setattr(report, name, value)


# What the relay reads of a report: the rest (its stored signature, decoded from JSON
# for each row, above all) it never needs.
_RELAY_READS = ("id", "status", "sent_at", "send_error", "outbox")


def _unsent() -> QuerySet[AsyncActionReport]:
    return (
        AsyncActionReport.objects.filter(status=Status.PENDING, sent_at__isnull=True)
        .exclude(outbox="")
        .order_by("pk")
        .only(*_RELAY_READS)
    )


def reports_relay(*, app: Celery | None = None, limit: int = 500) -> int:
    """Publish up to `limit` reports the broker did not take; returns how many it took."""
    return sum(report.sent_at is not None for report in _relay_pass(app or current_app, limit))


def _relay_pass(app: Celery, limit: int) -> list[AsyncActionReport]:
    """The reports one pass of at most `limit` claimed, as it left them: sent (`sent_at`
    set), failed for good, or still unsent (the broker did not take them)."""
    using = router.db_for_write(AsyncActionReport)
    if connections[using].features.has_select_for_update_skip_locked:
        return _relay_locked(app, using, limit)
    return _relay_claimed(app, limit)


def _relay_locked(app: Celery, using: str, limit: int) -> list[AsyncActionReport]:
    with transaction.atomic(using=using):
        # Published while the rows are locked, on purpose: the lock is the claim that keeps
        # other relays off them. The reports themselves are committed; a worker's start
        # write waits for this commit on the row lock.
        reports = list(_unsent().select_for_update(skip_locked=True)[:limit])
        sends = _readable(app, reports)
        sent = _publish_all(app, sends) if sends else []  # noqa: AA102
        _mark_sent(sent)
    return reports


def _readable(
    app: Celery, reports: Sequence[AsyncActionReport]
) -> list[tuple[AsyncActionReport, Signature]]:
    """(report, its message) for each entry that can be read; the others fail for good."""
    sends = []
    for report in reports:
        try:
            sends.append((report, _outbox_signature(app, report)))
        except Exception as exc:  # reading it again would fail the same way
            _fail_unreadable(report, exc)
    return sends


def _fail_unreadable(report: AsyncActionReport, exc: Exception) -> None:
    logger.exception("Could not read the outbox of async action report %s", report.pk)
    _fail_unsendable(
        report, f"Could not read the message in the outbox: {type(exc).__name__}: {exc}", exc
    )


def _mark_sent(sent: Sequence[AsyncActionReport]) -> None:
    if not sent:
        return
    now = timezone.now()
    AsyncActionReport.objects.filter(pk__in=[report.pk for report in sent]).update(
        sent_at=now, outbox="", send_error=""
    )
    for report in sent:
        report.sent_at, report.outbox, report.send_error = now, "", ""


def relay_forever(
    *,
    app: Celery | None = None,
    limit: int = 500,
    interval: float = 0.05,
    stop: threading.Event | None = None,
) -> None:
    """Relay until `stop` is set: at once while there is more, else every `interval` s.

    A pass the broker does not take (or a database error) waits longer each time, up to
    RELAY_BACKOFF_MAX seconds, and logs once per outage.
    """
    app = app or current_app
    stop = stop or threading.Event()
    waiting = interval
    failing = False
    while not stop.is_set():
        try:
            claimed = _relay_pass(app, limit)
        except DatabaseError as exc:
            connections.close_all()  # reconnect at the next pass
            if not failing:
                logger.error("The relay could not read the outbox; retrying: %s", exc)
            claimed, stuck = [], True
        else:
            stuck = any(_still_unsent(report) for report in claimed)
        if stuck:  # the broker (or the database) is not taking them
            failing = True
            waiting = min(max(waiting * 2, interval, 0.5), RELAY_BACKOFF_MAX)
            stop.wait(waiting)
            continue
        if failing:
            logger.warning("The relay publishes again")
        failing, waiting = False, interval
        if len(claimed) < limit:  # caught up: wait for new ones
            stop.wait(interval)
    connections.close_all()


def _still_unsent(report: AsyncActionReport) -> bool:
    return report.sent_at is None and report.status == Status.PENDING


def _relay_claimed(app: Celery, limit: int) -> list[AsyncActionReport]:
    claimed = []
    for report in list(_unsent()[:limit]):
        # The claim: only one relay's UPDATE finds the report still unsent.
        if not _unsent().filter(pk=report.pk).update(sent_at=timezone.now()):
            continue
        report.sent_at = None
        claimed.append(report)
        _relay_one(app, report)
        if _still_unsent(report):
            break  # the broker is still down: leave the rest for the next pass
    return claimed


def _relay_one(app: Celery, report: AsyncActionReport) -> None:
    """Publish one claimed report; it ends sent, failed for good, or unsent again."""
    try:
        signature = _outbox_signature(app, report)
    except Exception as exc:  # reading it again would fail the same way
        _fail_unreadable(report, exc)
        return
    try:
        _publish(signature)
    except Exception as exc:
        # Give the claim back: _record_failure leaves the report unsent or fails it.
        AsyncActionReport.objects.filter(pk=report.pk).update(sent_at=None)
        _record_failure(report, signature, exc)
        return
    _mark_sent([report])
