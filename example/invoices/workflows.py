"""What a sync runs, and in which order: workflows built from the private tasks' signatures.

A sync of one account, with three pages:

    _fetch_page(1) -> _store_page -> _sync_remaining_pages
                                          |  replaced at run time (page 1 told the count) by
                                          v
                      _fetch_page(2) -> _store_page -> _fetch_page(3) -> _store_page

Each fetch is a step of its own, so a 503 or a 429 retries that page only, and each store
is one transaction. "Sync all accounts" runs one such chain per account in parallel (a
chord's header) and then a summary step (its body).
"""

from __future__ import annotations

from celery import chain, chord
from celery.canvas import Signature

from async_actions import chainable

# The module, not the tasks: tasks imports this module too.
from example.invoices import tasks


@chainable
def sync_pages(*, account_id: int, first: int, last: int) -> list[tuple[Signature, Signature]]:
    """Fetch and store pages `first`..`last`, one after the other."""
    return [
        (tasks._fetch_page.si(account_id, page), tasks._store_page.s(account_id))
        for page in range(first, last + 1)
    ]


@chainable
def sync_account(*, account_id: int) -> tuple:
    """Page 1, then whatever number of pages page 1 announced."""
    return (
        sync_pages(account_id=account_id, first=1, last=1),
        tasks._sync_remaining_pages.s(account_id),
    )


def as_chain(signatures: tuple[Signature, ...]) -> Signature:
    """One flat chain of a chainable's signatures (a lone signature stays itself)."""
    return signatures[0] if len(signatures) == 1 else chain(*signatures)


def sync_invoices(*, account_id: int) -> Signature:
    return as_chain(sync_account(account_id=account_id))


def sync_all_accounts(*, account_ids: list[int], accounts_sync_id: int) -> Signature:
    """Every account at once, then one summary: a chord (it needs a result backend)."""
    return chord(
        [as_chain(sync_account(account_id=account_id)) for account_id in account_ids],
        tasks._summarize_accounts_sync.si(accounts_sync_id),
    )
