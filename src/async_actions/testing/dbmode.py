"""What kind of database access a test has, as pytest-django decides it."""

from __future__ import annotations

from typing import Literal

import pytest

DbMode = Literal["transaction", "plain", "none"]


def test_db_mode(request: pytest.FixtureRequest) -> DbMode:
    """ "transaction" (real commits), "plain" (one rolled-back transaction) or "none"."""
    if {"transactional_db", "live_server"} & set(request.fixturenames):
        return "transaction"
    marker = request.node.get_closest_marker("django_db")
    if marker is not None:
        transaction = marker.kwargs.get("transaction", marker.args[0] if marker.args else False)
        return "transaction" if transaction else "plain"
    return "plain" if "db" in request.fixturenames else "none"


test_db_mode.__test__ = False  # type: ignore[attr-defined]  # not a test, whatever its name


WHY_TRANSACTION = (
    "start_action sends its tasks only when the surrounding transaction commits, and a "
    "plain django_db test runs inside one transaction that is rolled back at its end: the "
    "task would never be sent (and a worker, in another process, could not see the report "
    "anyway), so the test would only time out."
)


def require_db_mode(request: pytest.FixtureRequest, fixture: str, wanted: DbMode) -> None:
    """Fail the test at once, saying how to mark it, if its database access does not fit."""
    mode = test_db_mode(request)
    if mode == wanted:
        return
    if wanted == "transaction":
        pytest.fail(
            f"{fixture} needs real commits: mark the test "
            f"@pytest.mark.django_db(transaction=True). {WHY_TRANSACTION}",
            pytrace=False,
        )
    pytest.fail(
        f"{fixture} works inside the test's own transaction: mark the test "
        f"@pytest.mark.django_db (without transaction=True). "
        + (
            "With transaction=True, start_action's commit would send the tasks to the broker "
            "for real. Use action_worker to run them on a real worker."
            if mode == "transaction"
            else "The test has no database access, and start_action records a report."
        ),
        pytrace=False,
    )
