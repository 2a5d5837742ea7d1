"""The demo's pages: one dashboard, and a small JSON view the dashboard polls."""

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from async_actions import AsyncActionReport
from async_actions.dashboard import numbered_steps
from async_actions.selectors import report_list, report_progress
from example.invoices.selectors import account_list, accounts_sync_list, invoice_list


def report_as_dict(report: AsyncActionReport) -> dict:
    return {
        "id": report.pk,
        "action": report.action,
        "status": report.status,
        "finished": report.is_finished,
        "origin": report.origin,
        "attempts": report.attempts,
        # A retried error is a problem only while the action is unfinished; on an ok report
        # it is history, shown apart and not in red.
        "last_retry_error": "" if report.status == "ok" else report.last_retry_error,
        "recovered_from": report.last_retry_error if report.status == "ok" else "",
        "dashboard_url": reverse("async_actions:detail", args=[report.public_id]),
        "error_message": report.error_message,
        "progress": round(report_progress(report), 3),
        "steps": [
            {
                "position": number,  # from 1, no gaps: the numbers the dashboard shows
                "branch": step.branch,
                "name": step.task_name.rsplit(".", 1)[-1],
                "status": step.status,
                "attempts": step.attempts,
                "error_message": step.error_message,
            }
            for number, step in numbered_steps(report)
        ],
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    reports = report_list()[:15]
    highlight = request.GET.get("report", "")
    current = None
    if highlight.isdigit():
        current = AsyncActionReport.objects.filter(pk=int(highlight)).first()
    return render(
        request,
        "example/home.html",
        {
            "reports": reports,
            "highlight": highlight,
            # The action the user just started (or clicked): shown with its progress and steps.
            "current": report_as_dict(current) if current else None,
            "accounts_syncs": accounts_sync_list()[:5],
            "accounts": account_list(),
            "invoices": invoice_list(),
            "idempotency_token": uuid.uuid4().hex,  # one per rendered page: see invoices.views
        },
    )


@login_required
def report_status(request: HttpRequest, report_id: int) -> JsonResponse:
    return JsonResponse(report_as_dict(get_object_or_404(AsyncActionReport, pk=report_id)))
