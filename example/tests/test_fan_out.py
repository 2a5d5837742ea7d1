""""Sync all accounts": a chord whose header syncs every account at once, and whose body sums up."""

from __future__ import annotations

import pytest
from django.conf import settings

from async_actions import AsyncActionReport, AsyncActionStep, Origin, Status, StepStatus
from async_actions.selectors import report_progress
from async_actions.testing import wait_for, wait_for_report
from example.invoices.models import AccountsSync, Invoice
from example.invoices.services import accounts_sync_start, accounts_sync_start_scheduled
from example.invoices.tasks import sync_all_accounts_on_schedule
from example.invoicesplus_fake.data import ACCOUNTS

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("async_actions_worker"),
]

SUMMARIZE = "example.invoices.tasks._summarize_accounts_sync"
FETCH = "example.invoices.tasks._fetch_page"


def test_every_account_is_synced_in_parallel_then_summarized(fake_api, accounts):
    report = wait_for_report(accounts_sync_start(), timeout=90)

    assert report.status == Status.OK, report.error_message
    summary = AccountsSync.objects.get(report=report)
    assert summary.invoice_counts == {"Acme Corp": 23, "Globex": 12, "Initech": 31}
    assert summary.invoice_total == Invoice.objects.count() == sum(ACCOUNTS.values())
    last_synced = Invoice.objects.values_list("account__last_synced_at", flat=True)
    assert summary.summarized_at >= max(last_synced)
    # One branch per account (sorted by name: Acme, Globex, Initech), each a fetch and a store
    # step per page; the summary is the one last step, after every branch.
    recorded = list(AsyncActionStep.objects.filter(report=report))
    per_branch = {
        branch: [s.task_name.rsplit(".", 1)[-1] for s in recorded if s.branch == branch]
        for branch in ("0", "1", "2")
    }
    assert per_branch == {
        branch: ["_fetch_page", "_store_page"] * pages
        for branch, pages in (("0", 3), ("1", 2), ("2", 4))
    }
    body = [s for s in recorded if s.task_name == SUMMARIZE]
    assert len(body) == 1 and body[0].branch == ""
    assert body[0].position > max(s.position for s in recorded if s.branch)
    # (Starts, not finishes: a step's finished_at is taken after Celery has sent what follows.)
    assert body[0].started_at >= max(s.started_at for s in recorded if s.branch)
    assert {s.status for s in recorded} == {StepStatus.OK}
    assert report.total_steps == len(recorded) == 2 * (3 + 2 + 4) + 1
    assert report_progress(report) == 1.0


def test_one_rejected_account_fails_the_whole_action_naming_the_step(fake_api, accounts):
    fake_api.configure(api_key=settings.INVOICES_PLUS_API_KEY, revoked_accounts="globex")

    report = wait_for_report(accounts_sync_start(), timeout=90)

    assert report.status == Status.FAILED
    assert report.error_type == "InvoicesPlusAuthError"
    assert report.error_message.startswith(
        "Failed at step 1 (example.invoices.tasks._fetch_page): InvoicesPlusAuthError: "
        "GET /v1/accounts/globex/invoices?page=1: InvoicesPlus rejected the API key (HTTP 401)"
    )
    failed = AsyncActionStep.objects.get(report=report, status=StepStatus.FAILED)
    # Globex is the second branch; its first fetch, tried once.
    assert (failed.branch, failed.position, failed.task_name, failed.attempts) == (
        "1",
        0,
        FETCH,
        1,
    )
    assert fake_api.statuses("globex") == [401]
    # The summary never ran: no step of it started, and nothing was summed up.
    body = AsyncActionStep.objects.get(report=report, task_name=SUMMARIZE)
    assert body.status == StepStatus.PENDING and body.started_at is None
    assert AccountsSync.objects.get(report=report).summarized_at is None
    assert not Invoice.objects.filter(account=accounts["globex"]).exists()
    assert report_progress(report) < 1.0
    key = settings.INVOICES_PLUS_API_KEY
    assert key not in report.error_message + report.error_traceback
    assert key not in failed.error_message + failed.error_traceback
    # The other accounts' syncs were under way and still finish (and the test's database
    # flush must not race their writes).
    others = AsyncActionStep.objects.filter(report=report, branch__in=["0", "2"])
    wait_for(
        lambda: not others.exclude(status=StepStatus.OK).exists(),
        timeout=60,
        what="the other accounts' steps",
    )
    assert Invoice.objects.filter(account=accounts["acme"]).count() == ACCOUNTS["acme"]
    assert Invoice.objects.filter(account=accounts["initech"]).count() == ACCOUNTS["initech"]


def test_the_page_starts_a_fan_out_and_a_double_click_does_not_start_two(
    fake_api, accounts, admin_client_logged_in
):
    client = admin_client_logged_in

    first = client.post("/invoices/accounts/sync/", {"idempotency_token": "load-1"})
    again = client.post("/invoices/accounts/sync/", {"idempotency_token": "load-1"})

    assert first.status_code == 302 and first["Location"] == again["Location"]
    report = wait_for_report(AsyncActionReport.objects.get(), timeout=90)
    assert (report.action, report.origin, report.status) == ("Sync all accounts", "user", "ok")
    assert AccountsSync.objects.count() == 1  # the second click left no orphan summary row
    page = client.get(first["Location"]).content.decode()
    assert "66 invoices" in page  # the summary, on the page


def test_the_schedule_starts_one_fan_out_per_slot_with_origin_schedule(fake_api, accounts):
    sync_all_accounts_on_schedule.delay()  # what beat sends; the worker runs it

    scheduled = AsyncActionReport.objects.filter(origin=Origin.SCHEDULE)
    wait_for(scheduled.exists, timeout=30, what="the scheduled sync")
    report = wait_for_report(scheduled.get(), timeout=90)

    assert (report.action, report.status, report.triggered_by) == (
        "Sync all accounts", Status.OK, None
    )
    assert AccountsSync.objects.get(report=report).invoice_total == sum(ACCOUNTS.values())
    # Beat firing again within the same slot starts nothing new (the slot of the first start:
    # the run may have crossed into the next slot meanwhile).
    assert accounts_sync_start_scheduled(at=report.created_at).pk == report.pk
    assert AccountsSync.objects.count() == 1


def test_the_beat_schedule_runs_a_registered_task():
    from example.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["sync-all-accounts"]
    assert entry["task"] in app.tasks
    assert entry["schedule"] == settings.INVOICES_SYNC_EVERY
