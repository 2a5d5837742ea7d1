"""Reports in the Django admin: read-only records nobody deletes, errors shown escaped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from async_actions.models import AsyncActionReport, AsyncActionStep
from async_actions.selectors import report_progress

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
        "position",
        "branch",
        "task_name",
        "status",
        "attempts",
        "started_at",
        "finished_at",
        "error_message",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(AsyncActionReport)
class AsyncActionReportAdmin(_ReportAdmin):
    inlines = (AsyncActionStepInline,)
    list_display = (
        "id",
        "action",
        "status",
        "origin",
        "triggered_by",
        "attempts",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "origin", "created_at")
    search_fields = ("action", "task_id", "idempotency_key", "error_message")
    date_hierarchy = "created_at"
    list_select_related = ("triggered_by",)
    readonly_fields = ("traceback", "progress")
    exclude = ("error_traceback",)

    @admin.display(description="error traceback")
    def traceback(self, report: AsyncActionReport) -> str:
        if not report.error_traceback:
            return "-"
        # format_html escapes the traceback: it may quote user input.
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', report.error_traceback)

    @admin.display(description="progress")
    def progress(self, report: AsyncActionReport) -> str:
        return f"{report_progress(report):.0%} of {report.total_steps} step(s)"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An audit trail: not even a superuser deletes reports here. Retention is the only
        # way out (`manage.py async_actions_purge`, `async_actions.tasks.purge_reports`).
        return False
