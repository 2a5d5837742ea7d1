"""The demo's pages: one dashboard, and a small JSON view the dashboard polls."""

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render

from async_actions import AsyncActionReport
from async_actions.selectors import report_list
from example.invoices.selectors import account_list, invoice_list


def report_as_dict(report: AsyncActionReport) -> dict:
    return {
        "id": report.pk,
        "action": report.action,
        "status": report.status,
        "finished": report.is_finished,
        "origin": report.origin,
        "attempts": report.attempts,
        "last_retry_error": report.last_retry_error,
        "error_message": report.error_message,
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "example/home.html",
        {
            "reports": report_list()[:15],
            "highlight": request.GET.get("report", ""),
            "accounts": account_list(),
            "invoices": invoice_list(),
            "idempotency_token": uuid.uuid4().hex,  # one per rendered page: see invoices.views
        },
    )


@login_required
def report_status(request: HttpRequest, report_id: int) -> JsonResponse:
    return JsonResponse(report_as_dict(get_object_or_404(AsyncActionReport, pk=report_id)))
