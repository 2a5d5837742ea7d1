"""Reports in the Django admin: read-only records, errors shown escaped."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from async_actions.models import AsyncActionReport


@admin.register(AsyncActionReport)
class AsyncActionReportAdmin(admin.ModelAdmin):
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
    readonly_fields = ("traceback",)
    exclude = ("error_traceback",)

    @admin.display(description="error traceback")
    def traceback(self, report: AsyncActionReport) -> str:
        if not report.error_traceback:
            return "-"
        # format_html escapes the traceback: it may quote user input.
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', report.error_traceback)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
