"""Syncing invoices end to end: a real worker, the fake API as a real server, real reports."""

from __future__ import annotations

import pytest
from django.conf import settings

from async_actions import AsyncActionReport, Origin, Status
from async_actions.testing import wait_for, wait_for_report
from example.invoices.models import Invoice, InvoiceSync
from example.invoices.services import invoice_sync_start, invoice_syncs_start_scheduled
from example.invoices.tasks import sync_invoices_on_schedule
from example.invoicesplus_fake.data import invoices as fake_invoices

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("async_actions_worker"),
]


def sync(account) -> AsyncActionReport:
    return wait_for_report(invoice_sync_start(account=account), timeout=60)


def stored_ids(account) -> list[str]:
    return sorted(Invoice.objects.filter(account=account).values_list("external_id", flat=True))


def test_a_clean_sync_stores_every_invoice_exactly_once_even_when_run_twice(fake_api, accounts):
    acme = accounts["acme"]
    expected = {item["id"]: item for item in fake_invoices("acme", seed=fake_api.knobs.seed)}

    first, second = sync(acme), sync(acme)

    assert (first.status, second.status) == (Status.OK, Status.OK)
    assert first.attempts == second.attempts == 1
    assert stored_ids(acme) == sorted(expected)  # 23 invoices, none twice
    invoice = Invoice.objects.get(account=acme, external_id="inv_acme_0007")
    assert str(invoice.amount) == expected["inv_acme_0007"]["amount"]
    assert stored_ids(accounts["globex"]) == []  # only the account asked for
    acme.refresh_from_db()
    assert acme.last_synced_at is not None


def test_a_rejected_key_fails_at_once_with_a_clear_message_and_stores_nothing(fake_api, accounts):
    fake_api.configure(api_key="ipk_rotated_by_someone_else")

    report = sync(accounts["acme"])

    assert report.status == Status.FAILED
    assert report.error_type == "InvoicesPlusAuthError"
    assert "InvoicesPlus rejected the API key (HTTP 401)" in report.error_message
    assert "Check the INVOICES_PLUS_API_KEY setting." in report.error_message
    assert report.attempts == 1 and report.last_retry_error == ""
    assert fake_api.statuses() == [401]  # asked once, no retries
    assert not Invoice.objects.exists()


def test_malformed_data_fails_at_once_without_retries(fake_api, accounts):
    fake_api.configure(api_key=settings.INVOICES_PLUS_API_KEY, malformed_rate=1.0)

    report = sync(accounts["globex"])

    assert report.status == Status.FAILED
    assert report.error_type == "InvoicesPlusMalformedResponse"
    assert "not valid JSON" in report.error_message
    assert report.attempts == 1
    assert not Invoice.objects.exists()


def test_failures_and_rate_limits_are_retried_until_the_sync_completes(fake_api, accounts):
    # Seed 19 answers this sync 429, 200, 200, 503, 200, 200 (the fake is deterministic per
    # seed): the 429 comes first, when backoff alone would wait only ~0.1 s.
    fake_api.configure(api_key=settings.INVOICES_PLUS_API_KEY, seed=19, failure_rate=0.3,
                       rate_limit_rate=0.15, retry_after=1)
    initech = accounts["initech"]

    report = sync(initech)

    assert report.status == Status.OK, report.error_message
    statuses = fake_api.statuses()
    assert 503 in statuses and 429 in statuses
    assert report.attempts == 1 + statuses.count(503) + statuses.count(429) > 1
    assert report.last_retry_error.startswith(
        "InvoicesPlusUnavailable: GET /v1/accounts/initech/invoices?page=3: "
    )
    assert stored_ids(initech) == sorted(i["id"] for i in fake_invoices("initech", seed=19))
    # Each retry resumed at the page that failed, and a 429's Retry-After was waited out.
    log = fake_api.log
    for before, after in zip(log, log[1:], strict=False):
        if before.status in (429, 503):
            assert after.path == before.path
        if before.status == 429:
            assert after.at - before.at >= 0.95


def test_retries_run_out_and_the_last_error_is_kept(fake_api, accounts):
    fake_api.configure(api_key=settings.INVOICES_PLUS_API_KEY, rate_limit_rate=1.0, retry_after=0)

    report = sync(accounts["acme"])

    assert report.status == Status.FAILED
    assert report.attempts == settings.INVOICES_PLUS_MAX_RETRIES + 1
    assert report.error_type == "InvoicesPlusRateLimited"
    assert "HTTP 429" in report.error_message
    # The retry's error keeps its type (the exception pickles; see client.py).
    assert report.last_retry_error.startswith("InvoicesPlusRateLimited: ")


def test_the_api_key_never_appears_in_any_stored_error(fake_api, accounts):
    key = settings.INVOICES_PLUS_API_KEY
    # Someone "rotates" the key on the API side: its 401 quotes the key our client sent.
    fake_api.configure(api_key="ipk_the_new_one")
    rejected = sync(accounts["acme"])
    fake_api.configure(api_key=key, malformed_rate=1.0)
    malformed = sync(accounts["globex"])
    fake_api.configure(api_key=key, failure_rate=0.5, seed=2)
    flaky = sync(accounts["initech"])

    assert [r.status for r in (rejected, malformed)] == [Status.FAILED, Status.FAILED]
    assert flaky.attempts > 1
    assert "The API key '********************' is not valid." in rejected.error_message
    for report in AsyncActionReport.objects.all():
        for stored in (report.error_message, report.error_traceback, report.last_retry_error):
            assert key not in stored


def test_a_double_click_starts_one_sync_and_a_new_page_load_another(
    fake_api, accounts, admin_client_logged_in
):
    client, acme = admin_client_logged_in, accounts["acme"]
    url = f"/invoices/accounts/{acme.pk}/sync/"

    first = client.post(url, {"idempotency_token": "page-load-1"})
    again = client.post(url, {"idempotency_token": "page-load-1"})

    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    report = wait_for_report(AsyncActionReport.objects.get(), timeout=60)
    assert report.status == Status.OK
    assert InvoiceSync.objects.get().account == acme
    assert fake_api.statuses("page=1") == [200]  # the API was asked once, not twice

    client.post(url, {"idempotency_token": "page-load-2"})
    assert AsyncActionReport.objects.count() == 2


def test_the_schedule_starts_one_sync_per_account_with_origin_schedule(fake_api, accounts):
    sync_invoices_on_schedule.delay()  # what beat sends; the worker runs it

    scheduled = AsyncActionReport.objects.filter(origin=Origin.SCHEDULE)
    wait_for(lambda: scheduled.count() == 3, timeout=30, what="three scheduled syncs")
    finished = [wait_for_report(report, timeout=60) for report in scheduled]


    assert {r.status for r in finished} == {Status.OK}
    assert {r.triggered_by for r in finished} == {None}
    assert Invoice.objects.count() == sum(len(fake_invoices(a, seed=1)) for a in accounts)
    # Beat firing again within the same slot starts nothing new.
    assert {r.pk for r in invoice_syncs_start_scheduled()} == {r.pk for r in finished}


def test_the_beat_schedule_runs_a_registered_task():
    from example.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["sync-invoices"]
    assert entry["task"] in app.tasks
    assert entry["schedule"] == settings.INVOICES_SYNC_EVERY
