"""Signals a project can hook into without subclassing anything.

Worker-side moves are sent once their state is written (after the statement, and after the
caller's commit when the move was made inside a transaction), and only for a report that
really moved: a late or duplicated event that changed nothing sends nothing.

    report_started(sender=AsyncActionReport, report_id=int)
    report_retrying(sender=AsyncActionReport, report_id=int, error=str)
    report_finished(sender=AsyncActionReport, report_id=int, status=Status)

`action_started(sender=AsyncActionReport, report=..., signature=...)` is sent by
`start_action` / `start_actions` in the caller once a new report (and its steps) is recorded
and its message is queued for the commit: `signature` is the frozen, stamped canvas that
will be sent. It is not sent for an `idempotency_key` seen before (nothing new starts).
The testing kit's `captured_actions` and `eager_actions` fixtures listen to it.
"""

from __future__ import annotations

from django.dispatch import Signal

action_started = Signal()
report_started = Signal()
report_retrying = Signal()
report_finished = Signal()
