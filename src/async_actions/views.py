"""The dashboard's pages, the JSON status API, and the retry and cancel buttons.

Thin: reads go through `dashboard` and `permissions`, writes through `services`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_POST

from async_actions import api, dashboard
from async_actions.arguments import task_arguments
from async_actions.conf import aa_settings
from async_actions.errors import InvalidActionError
from async_actions.models import AsyncActionReport, Origin, Status
from async_actions.permissions import can_cancel, can_retry, visible_reports
from async_actions.services import cancel_action, retry_action

View = Callable[..., HttpResponse]


def _json_login_required(view: View) -> View:
    """An API answers 403 to anonymous callers; a redirect to a login page means nothing to JS."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return JsonResponse({"error": "Authentication required."}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _visible_report(request: HttpRequest, public_id: Any) -> AsyncActionReport:
    """The report, or 404 - the same for a report this user may not see as for none at all."""
    report = (
        visible_reports(request.user)
        .select_related("triggered_by", "retry_of")
        .filter(public_id=public_id)
        .first()
    )
    if report is None:
        raise Http404("No such action.")
    return report


def _page(request: HttpRequest) -> dashboard.Page:
    filters = dashboard.Filters.from_query(request.GET)
    return dashboard.report_page(
        visible_reports(request.user), filters, size=aa_settings.DASHBOARD_PAGE_SIZE
    )


@require_GET
@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    try:
        page = _page(request)
    except InvalidActionError as exc:
        return render(request, "async_actions/error.html", {"error": str(exc)}, status=400)
    if request.GET.get("fragment") == "rows":
        return render(request, "async_actions/_rows.html", {"rows": page.rows})
    context = {
        "page": page,
        "filters": page.filters,
        "statuses": [s.value for s in Status],
        "origins": [o.value for o in Origin],
        "actions": dashboard.action_names(visible_reports(request.user)),
        "poll_ms": int(aa_settings.DASHBOARD_POLL_INTERVAL * 1000),
        "query": page.filters.as_query(),
    }
    return render(request, "async_actions/dashboard.html", context)


@require_GET
@login_required
def report_detail(request: HttpRequest, public_id: Any) -> HttpResponse:
    report = _visible_report(request, public_id)
    timeline = dashboard.timeline(report)
    context = {
        "report": report,
        # Finished, and no step still writing its end (a step's success may land just after
        # a cancel finished the report): the live page can stop refreshing.
        "settled": report.is_finished
        and not any(bar.step.status in ("running", "retrying") for bar in timeline),
        "progress": dashboard.report_progress_now(report),
        "timeline": timeline,
        "arguments": task_arguments(report.signature),
        "retries": list(report.retries.order_by("-created_at")[:20]),
        "duration": dashboard.duration(report.started_at, report.finished_at),
        "can_retry": can_retry(request.user) and report.is_finished,
        "can_cancel": can_cancel(request.user)
        and not report.is_finished
        and report.cancel_requested_at is None,
        "poll_ms": int(aa_settings.DASHBOARD_POLL_INTERVAL * 1000),
    }
    if request.GET.get("fragment") == "body":
        return render(request, "async_actions/_detail_body.html", context)
    return render(request, "async_actions/detail.html", context)


@require_GET
@_json_login_required
def api_detail(request: HttpRequest, public_id: Any) -> JsonResponse:
    try:
        report = _visible_report(request, public_id)
    except Http404:
        return JsonResponse({"error": "No such action."}, status=404)
    return JsonResponse(api.report_detail(report, dashboard.report_progress_now(report)))


@require_GET
@_json_login_required
def api_list(request: HttpRequest) -> JsonResponse:
    try:
        page = _page(request)
    except InvalidActionError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    next_url = None
    if page.next_cursor:
        query = {**page.filters.as_query(), "before": page.next_cursor}
        next_url = f"{reverse('async_actions:api-list')}?{urlencode(query)}"
    return JsonResponse({"results": api.rows_summary(page.rows), "next": next_url})


@require_POST
@csrf_protect
@login_required
def report_retry(request: HttpRequest, public_id: Any) -> HttpResponse:
    report = _visible_report(request, public_id)
    if not can_retry(request.user):
        return render(
            request, "async_actions/error.html", {"error": "You may not retry actions."}, status=403
        )
    try:
        again = retry_action(report, triggered_by=request.user, origin=Origin.USER)
    except InvalidActionError as exc:
        return render(request, "async_actions/error.html", {"error": str(exc)}, status=409)
    return redirect("async_actions:detail", public_id=again.public_id)


@require_POST
@csrf_protect
@login_required
def report_cancel(request: HttpRequest, public_id: Any) -> HttpResponse:
    report = _visible_report(request, public_id)
    if not can_cancel(request.user):
        return render(
            request,
            "async_actions/error.html",
            {"error": "You may not cancel actions."},
            status=403,
        )
    cancel_action(report)
    return redirect("async_actions:detail", public_id=report.public_id)
