"""The fake's accounts and their invoices: generated from the seed, the same on every run."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

# How many invoices each account has; an account not listed is a 404.
ACCOUNTS = {"acme": 23, "globex": 12, "initech": 31}
CUSTOMERS = ("Lumon", "Vandelay Industries", "Stark Trading", "Wonka", "Hooli", "Pied Piper")


def invoices(account_id: str, *, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(f"{seed}:{account_id}")
    first_day = date(2026, 1, 1)
    return [
        {
            "id": f"inv_{account_id}_{n:04d}",
            "number": f"{account_id.upper()}-2026-{n:04d}",
            "customer": rng.choice(CUSTOMERS),
            "amount": f"{rng.randint(1_000, 500_000) / 100:.2f}",
            "currency": rng.choice(("EUR", "BGN", "USD")),
            "issued_on": (first_day + timedelta(days=rng.randint(0, 300))).isoformat(),
            "status": rng.choice(("paid", "open", "overdue")),
        }
        for n in range(1, ACCOUNTS[account_id] + 1)
    ]


def page_of(items: list[dict[str, Any]], *, page: int, page_size: int) -> dict[str, Any]:
    start = (page - 1) * page_size
    has_next = start + page_size < len(items)
    return {
        "data": items[start : start + page_size],
        "page": page,
        "next_page": page + 1 if has_next else None,
        "pages": max(1, -(-len(items) // page_size)),
        "total": len(items),
    }
