"""Signals a project can hook into without subclassing anything.

Each is sent once its state is written (after the statement, and after the caller's
commit when the move was made inside a transaction), and only for a report that really
moved: a late or duplicated event that changed nothing sends nothing.

    report_started(sender=AsyncActionReport, report_id=int)
    report_retrying(sender=AsyncActionReport, report_id=int, error=str)
    report_finished(sender=AsyncActionReport, report_id=int, status=Status)
"""

from __future__ import annotations

from django.dispatch import Signal

report_started = Signal()
report_retrying = Signal()
report_finished = Signal()
