"""The business logic of the InvoicesPlus integration: starting syncs, fetching, storing."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from async_actions import AsyncActionReport, Origin, start_action
from example.invoices import workflows
from example.invoices.client import InvoiceData, InvoicesPlusClient
from example.invoices.models import Account, Invoice, InvoiceSync

SYNC_ACTION = "Sync invoices"
DEMO_ACCOUNTS = {"acme": "Acme Corp", "globex": "Globex", "initech": "Initech"}


def accounts_seed() -> list[Account]:
    return [
        Account.objects.get_or_create(external_id=external_id, defaults={"name": name})[0]
        for external_id, name in DEMO_ACCOUNTS.items()
    ]


def invoice_sync_start(
    *,
    account: Account,
    triggered_by: Any = None,
    origin: str | None = None,
    idempotency_key: str | None = None,
) -> AsyncActionReport:
    """Record a "Sync invoices" action for `account`; its workflow runs after the commit."""
    with transaction.atomic():
        report = start_action(
            SYNC_ACTION,
            workflows.sync_invoices(account_id=account.pk),
            triggered_by=triggered_by,
            origin=origin,
            idempotency_key=idempotency_key,
        )
        # get_or_create: an idempotency key that was used before returns the old report.
        InvoiceSync.objects.get_or_create(report=report, defaults={"account": account})
    return report


def invoice_syncs_start_scheduled() -> list[AsyncActionReport]:
    """One sync per account for this schedule slot: beat firing twice in a slot starts one."""
    slot = int(timezone.now().timestamp() // settings.INVOICES_SYNC_EVERY)
    return [
        invoice_sync_start(
            account=account,
            origin=Origin.SCHEDULE,
            idempotency_key=f"invoices:schedule:{account.pk}:{slot}",
        )
        for account in Account.objects.order_by("pk")
    ]


def invoices_client() -> InvoicesPlusClient:
    # Built at use time from settings: the key never travels in a task's arguments.
    return InvoicesPlusClient(
        base_url=settings.INVOICES_PLUS_URL,
        api_key=settings.INVOICES_PLUS_API_KEY,
        timeout=settings.INVOICES_PLUS_TIMEOUT,
    )


def invoices_sync_page(*, account_id: int, page: int) -> int | None:
    """Fetch one page of the account's invoices and store it. Returns the next page, if any."""
    account = Account.objects.get(pk=account_id)
    result = invoices_client().list_invoices(account_id=account.external_id, page=page)
    invoices_store(account=account, invoices=result.invoices, complete=result.next_page is None)
    return result.next_page


@transaction.atomic
def invoices_store(*, account: Account, invoices: list[InvoiceData], complete: bool) -> None:
    """Upsert on (account, external_id) in one transaction: storing a page twice changes nothing.

    An upsert rather than get-then-create: two syncs of one account at once cannot both insert.
    """
    Invoice.objects.bulk_create(
        [
            Invoice(
                account=account, external_id=item.external_id, number=item.number,
                customer=item.customer, amount=item.amount, currency=item.currency,
                issued_on=item.issued_on, status=item.status,
            )
            for item in invoices
        ],
        update_conflicts=True,
        unique_fields=["account", "external_id"],
        update_fields=["number", "customer", "amount", "currency", "issued_on", "status",
                       "synced_at"],
    )
    if complete:
        Account.objects.filter(pk=account.pk).update(last_synced_at=timezone.now())
