"""InvoicesPlusClient against the real fake server: what parses, and which errors are which."""

from __future__ import annotations

import json
import pickle
from datetime import date
from decimal import Decimal

import pytest

from example.invoices.client import (
    InvoiceData,
    InvoicesPlusAuthError,
    InvoicesPlusClient,
    InvoicesPlusMalformedResponse,
    InvoicesPlusPermanentError,
    InvoicesPlusRateLimited,
    InvoicesPlusTransientError,
    InvoicesPlusUnavailable,
)
from example.invoicesplus_fake import FakeInvoicesPlus, Knobs

KEY = "ipk_test_0123456789"


@pytest.fixture
def server():
    fake = FakeInvoicesPlus(knobs=Knobs(api_key=KEY)).start()
    yield fake
    fake.stop()


def client_for(server, key=KEY, timeout=2.0):
    return InvoicesPlusClient(base_url=server.url, api_key=key, timeout=timeout)


def test_a_page_parses_into_typed_invoices(server):
    page = client_for(server).list_invoices(account_id="globex", page=2)

    assert (page.next_page, page.pages) == (None, 2)
    assert [i.external_id for i in page.invoices] == ["inv_globex_0011", "inv_globex_0012"]
    assert isinstance(page.invoices[0].amount, Decimal)
    assert isinstance(page.invoices[0].issued_on, date)


def test_an_invoice_survives_the_trip_between_steps_as_json(server):
    invoice = client_for(server).list_invoices(account_id="acme", page=1).invoices[0]

    sent = json.loads(json.dumps(invoice.to_json()))  # what the broker carries

    assert InvoiceData.from_json(sent) == invoice
    assert sent["amount"] == str(invoice.amount) and sent["issued_on"] == str(invoice.issued_on)


@pytest.mark.parametrize(
    "knobs, error",
    [
        ({"failure_rate": 1.0}, InvoicesPlusUnavailable),
        ({"rate_limit_rate": 1.0, "retry_after": 3}, InvoicesPlusRateLimited),
        ({"latency": 0.6}, InvoicesPlusUnavailable),  # slower than the client's timeout
    ],
)
def test_transient_errors(server, knobs, error):
    server.configure(api_key=KEY, **knobs)

    with pytest.raises(error) as raised:
        client_for(server, timeout=0.3).list_invoices(account_id="acme", page=1)

    assert isinstance(raised.value, InvoicesPlusTransientError)
    assert raised.value.retry_after == knobs.get("retry_after")


def test_a_rejected_key_is_permanent_and_says_which_setting_to_check(server):
    with pytest.raises(InvoicesPlusAuthError) as raised:
        client_for(server, key="ipk_revoked_000").list_invoices(account_id="acme", page=1)

    assert isinstance(raised.value, InvoicesPlusPermanentError)
    assert "HTTP 401" in str(raised.value) and "INVOICES_PLUS_API_KEY" in str(raised.value)


def test_both_kinds_of_malformed_answers_are_permanent(server):
    server.configure(api_key=KEY, malformed_rate=1.0)
    client = client_for(server)

    for _ in range(2):  # cut-short JSON, then a record with a bad amount
        with pytest.raises(InvoicesPlusMalformedResponse):
            client.list_invoices(account_id="acme", page=1)


def test_unknown_account_is_permanent(server):
    with pytest.raises(InvoicesPlusPermanentError, match="HTTP 404"):
        client_for(server).list_invoices(account_id="nobody", page=1)


def test_a_rate_limit_error_survives_pickling_with_its_wait():
    # Celery pickles the exception a retry carries; a lossy copy would lose type and wait.
    copy = pickle.loads(pickle.dumps(InvoicesPlusRateLimited("slow down", retry_after=4.0)))

    assert type(copy) is InvoicesPlusRateLimited
    assert (str(copy), copy.retry_after) == ("slow down", 4.0)
