"""Fixtures of the example's tests. The async_actions plugin is loaded with -p (see settings.py).

The fake InvoicesPlus API runs as a real HTTP server in this process; the worker subprocess
reaches it through INVOICES_PLUS_URL, which must be in the environment before the worker starts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from example.invoices.models import Account
from example.invoices.services import accounts_seed
from example.invoicesplus_fake import FakeInvoicesPlus, Knobs


@pytest.fixture(scope="session")
def invoicesplus_server() -> Iterator[FakeInvoicesPlus]:
    server = FakeInvoicesPlus(knobs=Knobs(api_key=settings.INVOICES_PLUS_API_KEY)).start()
    os.environ["INVOICES_PLUS_URL"] = server.url
    yield server
    server.stop()


@pytest.fixture(scope="session")
def async_actions_worker(invoicesplus_server: FakeInvoicesPlus, async_actions_worker: Any) -> Any:
    """The plugin's worker, started only once the fake API's address is in the environment."""
    return async_actions_worker


@pytest.fixture
def fake_api(invoicesplus_server: FakeInvoicesPlus) -> Iterator[FakeInvoicesPlus]:
    """The fake with well-behaved knobs, fresh counters and an empty log; tests change knobs."""
    invoicesplus_server.configure(api_key=settings.INVOICES_PLUS_API_KEY)
    yield invoicesplus_server
    invoicesplus_server.configure(api_key=settings.INVOICES_PLUS_API_KEY)


@pytest.fixture
def accounts(db: None) -> dict[str, Account]:
    return {account.external_id: account for account in accounts_seed()}


@pytest.fixture
def admin_client_logged_in(db: None) -> Client:
    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw-for-tests")
    client = Client()
    client.force_login(user)
    return client
