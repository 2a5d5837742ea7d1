"""Start a sync: POST, record the action, redirect at once - the worker does the slow part."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from example.invoices.models import Account
from example.invoices.services import accounts_sync_start, invoice_sync_start


@require_POST
@login_required
def sync_now(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=account_id)
    # The form carries a token made when the page was rendered: a double click (or a resent
    # POST) sends the same token again and gets the same action, not a second sync.
    token = request.POST.get("idempotency_token", "")[:64]
    key = f"invoices:sync:{account.pk}:{request.user.pk}:{token}" if token else None
    report = invoice_sync_start(account=account, triggered_by=request.user, idempotency_key=key)
    return redirect(f"/demo/?report={report.pk}")


@require_POST
@login_required
def sync_all(request: HttpRequest) -> HttpResponse:
    token = request.POST.get("idempotency_token", "")[:64]
    key = f"invoices:sync-all:{request.user.pk}:{token}" if token else None
    report = accounts_sync_start(triggered_by=request.user, idempotency_key=key)
    return redirect(f"/demo/?report={report.pk}")
