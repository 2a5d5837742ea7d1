"""Reads for the invoices page."""

from __future__ import annotations

from django.db.models import Count, OuterRef, QuerySet, Subquery

from example.invoices.models import Account, AccountsSync, Invoice, InvoiceSync


def account_list() -> QuerySet[Account]:
    """Accounts with their invoice count and the id of their latest sync's report."""
    latest_sync = InvoiceSync.objects.filter(account=OuterRef("pk")).order_by("-report_id")
    return Account.objects.annotate(
        invoice_count=Count("invoices"),
        last_report_id=Subquery(latest_sync.values("report_id")[:1]),
    ).order_by("name")


def invoice_list(*, limit: int = 50) -> QuerySet[Invoice]:
    return Invoice.objects.select_related("account").order_by("-issued_on", "-id")[:limit]


def accounts_sync_list() -> QuerySet[AccountsSync]:
    """"Sync all accounts" runs, latest first, with their reports."""
    return AccountsSync.objects.select_related("report").exclude(report=None)
