"""Tasks the examples in README.md and docs/ use, and helpers for running those examples.

The examples run in the test process with a test database (see conftest.py at the root);
nothing they start reaches a worker, because the test's transaction never commits.
"""

import unittest

from celery import shared_task


@shared_task
def send_invoice(invoice_id: int) -> str:
    if invoice_id < 0:
        raise ValueError(f"No invoice {invoice_id}")
    return f"invoice {invoice_id} sent"


@shared_task
def _fetch(account_id: int) -> list:
    return [account_id]


@shared_task
def _store(rows: list) -> int:
    return len(rows)


@shared_task
def _summary(counts: list) -> int:
    return sum(counts)


@shared_task
def some_task() -> None:
    pass


@shared_task
def other_task() -> None:
    pass


@shared_task
def regular_task() -> None:
    pass


def run_django_testcase(case: type[unittest.TestCase]) -> None:
    """Run a Django TestCase class as `manage.py test` would, and fail on any failure."""
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
    problems = result.failures + result.errors
    assert result.testsRun and not problems, "\n".join(text for _, text in problems)
