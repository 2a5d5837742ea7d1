"""The business logic of the InvoicesPlus integration: starting syncs, fetching, storing.

Tasks call these and nothing else; so do tests, views and the shell. None of them knows
about Celery beyond `start_action`: what runs in which order is `workflows.py`'s job.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from async_actions import AsyncActionReport, IdempotencyConflictError, Origin, start_action
from example.invoices import workflows
from example.invoices.client import InvoiceData, InvoicesPlusClient
from example.invoices.models import Account, AccountsSync, Invoice, InvoiceSync

logger = logging.getLogger(__name__)

SYNC_ACTION = "Sync invoices"
SYNC_ALL_ACTION = "Sync all accounts"
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


@transaction.atomic
def accounts_sync_start(
    *, triggered_by: Any = None, origin: str | None = None, idempotency_key: str | None = None
) -> AsyncActionReport:
    """Record a "Sync all accounts" action: every account synced in parallel, then a summary.

    Each action's summary row is new, so its id in the workflow's arguments differs from
    one start to the next: a reused idempotency key is looked up first (an idempotency key
    stands for the same tasks and arguments; with others start_action refuses it).
    """
    if idempotency_key is not None:
        existing = AsyncActionReport.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
    accounts_sync = AccountsSync.objects.create()
    account_ids = list(Account.objects.order_by("name").values_list("pk", flat=True))
    try:
        report = start_action(
            SYNC_ALL_ACTION,
            workflows.sync_all_accounts(account_ids=account_ids, accounts_sync_id=accounts_sync.pk),
            triggered_by=triggered_by,
            origin=origin,
            idempotency_key=idempotency_key,
        )
    except IdempotencyConflictError as conflict:
        # Another request with the same key committed meanwhile: its action stands.
        accounts_sync.delete()
        return AsyncActionReport.objects.get(pk=conflict.report_id)
    accounts_sync.report = report
    accounts_sync.save(update_fields=["report"])
    return report


def accounts_sync_start_scheduled(*, at: datetime | None = None) -> AsyncActionReport:
    """Beat's sync of every account: firing twice in one schedule slot starts one action.

    `at` (default: now) says which slot.
    """
    slot = int((at or timezone.now()).timestamp() // settings.INVOICES_SYNC_EVERY)
    return accounts_sync_start(
        origin=Origin.SCHEDULE, idempotency_key=f"invoices:schedule:all:{slot}"
    )


def invoices_client() -> InvoicesPlusClient:
    # Built at use time from settings: the key never travels in a task's arguments.
    return InvoicesPlusClient(
        base_url=settings.INVOICES_PLUS_URL,
        api_key=settings.INVOICES_PLUS_API_KEY,
        timeout=settings.INVOICES_PLUS_TIMEOUT,
    )


def invoices_fetch_page(*, account_id: int, page: int) -> dict[str, Any]:
    """Fetch one page of the account's invoices, as plain data for the step that stores it.

    Raises the client's errors: transient ones are for the task to retry.
    """
    account = Account.objects.get(pk=account_id)
    result = invoices_client().list_invoices(account_id=account.external_id, page=page)
    return {
        "page": page,
        "pages": result.pages,
        "invoices": [invoice.to_json() for invoice in result.invoices],
    }


def invoices_store_page(*, account_id: int, fetched: dict[str, Any]) -> dict[str, int]:
    """Store a page `invoices_fetch_page` returned. Returns what the next step needs to know."""
    invoices_store(
        account=Account.objects.get(pk=account_id),
        invoices=[InvoiceData.from_json(item) for item in fetched["invoices"]],
        complete=fetched["page"] >= fetched["pages"],
    )
    return {"page": fetched["page"], "pages": fetched["pages"], "stored": len(fetched["invoices"])}


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


def accounts_sync_summarize(*, accounts_sync_id: int) -> dict[str, int]:
    """Count what is stored per account, once every account's sync has finished."""
    counts = dict(
        Account.objects.annotate(stored=Count("invoices"))
        .order_by("name")
        .values_list("name", "stored")
    )
    AccountsSync.objects.filter(pk=accounts_sync_id).update(
        invoice_counts=counts, summarized_at=timezone.now()
    )
    logger.info(
        "Synced all accounts: %s invoices (%s)",
        sum(counts.values()),
        ", ".join(f"{name} {stored}" for name, stored in counts.items()),
    )
    return counts
