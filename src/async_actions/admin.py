"""Reports in the Django admin: read-only records nobody deletes, errors shown escaped, retry
and cancel as actions behind their own permissions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from async_actions.arguments import task_arguments
from async_actions.dashboard import report_progress_now
from async_actions.errors import InvalidActionError
from async_actions.models import AsyncActionReport, AsyncActionStep, Origin
from async_actions.permissions import CANCEL, RETRY
from async_actions.selectors import step_number
from async_actions.services import cancel_action, retry_action

# Django's admin classes are generic only in the type stubs, not at run time.
if TYPE_CHECKING:
    _StepInline = admin.TabularInline[AsyncActionStep, AsyncActionReport]
    _ReportAdmin = admin.ModelAdmin[AsyncActionReport]
else:
    _StepInline = admin.TabularInline
    _ReportAdmin = admin.ModelAdmin


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AsyncActionStepInline(ReadOnlyMixin, _StepInline):
    model = AsyncActionStep
    fields = (
        "number",
        "branch",
        "task_name",
        "status",
        "attempts",
        "started_at",
        "finished_at",
        "error",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    @admin.display(description="step")
    def number(self, step: AsyncActionStep) -> int:
        # The same numbers as the dashboard and the error message: from 1, no gaps.
        return step_number(report_id=step.report_id, position=step.position)

    @admin.display(description="error")
    def error(self, step: AsyncActionStep) -> str:
        # Cut, so a long message cannot stretch the table past the page; the full one is
        # in the hover text and on the dashboard.
        if not step.error_message:
            return "-"
        return format_html(
            '<span title="{}">{}</span>',
            step.error_message,
            Truncator(step.error_message).chars(80),
        )


@admin.register(AsyncActionReport)
class AsyncActionReportAdmin(_ReportAdmin):
    inlines = (AsyncActionStepInline,)
    list_display = (
        "id",
        "action",
        "status",
        "origin",
        "triggered_by",
        "attempts_shown",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "origin", "created_at")
    search_fields = ("action", "task_id", "idempotency_key", "error_message")
    date_hierarchy = "created_at"
    list_select_related = ("triggered_by",)
    show_full_result_count = False  # no COUNT(*) over every report on each search
    readonly_fields = (
        "dashboard",
        "traceback",
        "progress",
        "attempts_shown",
        "retried_error",
        "arguments",
    )
    exclude = (
        "error_traceback",
        "attempts",
        "last_retry_error",
        "last_retry_attempt",
        "progress_current",  # shown together as "progress"
        "progress_total",
        "progress_message",
    )
    actions = ("retry_reports", "cancel_reports")

    class Media:
        css = {"all": ["async_actions/admin.css"]}

    @admin.display(description="dashboard")
    def dashboard(self, report: AsyncActionReport) -> str:
        try:
            url = reverse("async_actions:detail", args=[report.public_id])
        except NoReverseMatch:  # the project did not mount async_actions.urls
            return "-"
        return format_html('<a href="{}">timeline and live status</a>', url)

    @admin.display(description="error traceback")
    def traceback(self, report: AsyncActionReport) -> str:
        if not report.error_traceback:
            return "-"
        # format_html escapes the traceback: it may quote user input.
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', report.error_traceback)

    @admin.display(description="progress")
    def progress(self, report: AsyncActionReport) -> str:
        progress = report_progress_now(report)
        shown = f"{progress.percent}% ({progress.current} of {progress.total})"
        return f"{shown}: {progress.message}" if progress.message else shown

    @admin.display(description="attempts")
    def attempts_shown(self, report: AsyncActionReport) -> str:
        # A workflow's attempts are its steps'; a task that never ran has none to show.
        if report.total_steps > 1:
            return "per step"
        return str(report.attempts) if report.attempts else "-"

    @admin.display(description="error of a retried attempt")
    def retried_error(self, report: AsyncActionReport) -> str:
        if not report.last_retry_error:
            return "-"
        prefix = "recovered after: " if report.status == "ok" else ""
        return f"{prefix}{report.last_retry_error}"

    @admin.display(description="arguments")
    def arguments(self, report: AsyncActionReport) -> str:
        shown = task_arguments(report.signature)
        if not shown:
            return "-"
        return format_html_join(
            "\n",
            "<div><code>{}</code>({})</div>",
            ((name, ", ".join(f"{k}={v!r}" for k, v in values.items())) for name, values in shown),
        )

    @admin.action(description="Retry the selected actions", permissions=["retry"])
    def retry_reports(self, request: HttpRequest, queryset: QuerySet[AsyncActionReport]) -> None:
        started, refused = 0, []
        for report in queryset:
            try:
                retry_action(report, triggered_by=request.user, origin=Origin.ADMIN)
                started += 1
            except InvalidActionError as exc:
                refused.append(str(exc))
        if started:
            self.message_user(request, f"Started {started} retry(ies).", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)

    @admin.action(description="Cancel the selected actions", permissions=["cancel"])
    def cancel_reports(self, request: HttpRequest, queryset: QuerySet[AsyncActionReport]) -> None:
        requested = sum(cancel_action(report) for report in queryset)
        self.message_user(
            request, f"Asked {requested} unfinished action(s) to stop.", messages.SUCCESS
        )

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(RETRY))

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(CANCEL))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An audit trail: not even a superuser deletes reports here. Retention is the only
        # way out (`manage.py async_actions_purge`, `async_actions.tasks.purge_reports`).
        return False
