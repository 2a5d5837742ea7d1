"""Fixtures of the example's tests. The async_actions plugin is loaded with -p (see settings.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client


@pytest.fixture
def admin_client_logged_in(db: None) -> Client:
    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw-for-tests")
    client = Client()
    client.force_login(user)
    return client
