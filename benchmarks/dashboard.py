"""The dashboard and the JSON list at scale: 1,000,000 reports in PostgreSQL.

    python -m benchmarks dashboard [--rows 1000000] [--repeat 15]

Seeds the reports once (INSERT ... SELECT over generate_series: seconds, not minutes) into a
database of its own, then times each page through Django's test client - the server's whole
work: middleware, queries, template or JSON - and prints the median and the slowest of the
repeats, the time its SQL took (one more request, its queries captured), how many queries it
made, and whether any of them counted the reports table.
Pages must answer in under 150 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time

ENV = {
    "DJANGO_SETTINGS_MODULE": "benchmarks.dashboard_settings",
    "AA_BENCH_PG_NAME": "aa_issue11_dashboard",
}
BUDGET_MS = 150.0

ACTIONS = [
    "Sync invoices", "Send welcome mail", "Import contacts", "Export ledger",
    "Rebuild search index", "Nightly cleanup", "Resize images", "Send newsletter",
]

SEED_REPORTS = """
INSERT INTO async_actions_asyncactionreport (
    public_id, action, status, error_message, error_traceback, triggered_by_id, origin,
    task_name, task_id, root_task_id, created_at, started_at, finished_at, attempts,
    last_retry_error, last_retry_attempt, error_type, total_steps, progress_message,
    exception_class_path, worker_ids, worker, send_error, outbox, fingerprint
)
SELECT
    gen_random_uuid(),
    (%(actions)s::text[])[1 + i %% 8],
    CASE WHEN i %% 50 = 0 THEN 'failed' WHEN i %% 997 = 0 THEN 'running'
         WHEN i %% 211 = 0 THEN 'cancelled' ELSE 'ok' END,
    CASE WHEN i %% 50 = 0 THEN 'Failed at step 2 (proj.tasks.store): boom' ELSE '' END,
    '',
    CASE WHEN i %% 3 = 0 THEN NULL ELSE %(user_id)s END,
    CASE WHEN i %% 3 = 0 THEN 'schedule' WHEN i %% 7 = 0 THEN 'admin' ELSE 'user' END,
    'proj.tasks.work', md5(i::text), md5(i::text),
    now() - make_interval(secs => i * 8),
    now() - make_interval(secs => i * 8 - 1),
    CASE WHEN i %% 997 = 0 THEN NULL ELSE now() - make_interval(secs => i * 8 - 3) END,
    1, '', 0,
    CASE WHEN i %% 50 = 0 THEN 'ValueError' ELSE '' END,
    CASE WHEN i %% 10 = 0 THEN 3 ELSE 1 END,
    '', '', '[]', '', '', '', ''
FROM generate_series(1, %(rows)s) AS i
"""

# Three steps for every workflow (one report in ten).
SEED_STEPS = """
INSERT INTO async_actions_asyncactionstep (
    report_id, task_id, task_name, position, branch, status, attempts, last_retry_attempt,
    started_at, finished_at, error_type, error_message, error_traceback, worker
)
SELECT r.id, r.task_id || '-' || s, 'proj.tasks.step' || s, s - 1, '',
    CASE WHEN r.status = 'ok' THEN 'ok' WHEN s = 1 THEN 'ok' ELSE 'pending' END,
    1, 0, r.started_at, r.finished_at, '', '', '', ''
FROM async_actions_asyncactionreport r, generate_series(1, 3) AS s
WHERE r.total_steps = 3
"""


def _seed(rows: int) -> None:
    from django.contrib.auth.models import User
    from django.db import connection

    from async_actions.models import AsyncActionReport

    have = AsyncActionReport.objects.order_by().values("id")[: rows + 1].count()
    if have == rows:
        print(f"Reusing the {rows:,} seeded reports.")
        return
    print(f"Seeding {rows:,} reports ...", flush=True)
    started = time.perf_counter()
    user, _ = User.objects.get_or_create(username="bench-operator")
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE async_actions_asyncactionreport CASCADE")
        cursor.execute(SEED_REPORTS, {"actions": ACTIONS, "rows": rows, "user_id": user.pk})
        cursor.execute(SEED_STEPS)
    # As the reaper leaves a table: old unfinished reports parked, the mark PARK_AFTER back.
    from async_actions.parking import park

    park()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE async_actions_asyncactionreport")
        cursor.execute("ANALYZE async_actions_asyncactionstep")
    print(f"Seeded in {time.perf_counter() - started:.0f} s.")


def _pages() -> list[tuple[str, str]]:
    from async_actions.models import AsyncActionReport

    deep = AsyncActionReport.objects.order_by("-created_at", "-id").values_list(
        "public_id", flat=True
    )[500_000]
    failed = AsyncActionReport.objects.filter(status="failed").values_list("public_id", flat=True)
    return [
        ("dashboard, first page", "/actions/"),
        ("dashboard, status=failed", "/actions/?status=failed"),
        ("dashboard, status=running", "/actions/?status=running"),
        ("dashboard, action + origin", "/actions/?action=Export+ledger&origin=admin"),
        ("dashboard, status + day", "/actions/?status=failed&date=" + _a_day()),
        ("dashboard, rows fragment (live poll)", "/actions/?fragment=rows"),
        ("dashboard, page 10,001 (keyset)", f"/actions/?before={deep}"),
        ("dashboard, search 'ledger'", "/actions/?q=ledger"),
        ("JSON list", "/actions/api/"),
        ("JSON list, status + action", "/actions/api/?status=failed&action=Sync+invoices"),
        ("JSON detail, a failed workflow", f"/actions/api/{failed.first()}/"),
    ]


def _a_day() -> str:
    from django.utils import timezone

    return (timezone.now() - timezone.timedelta(days=30)).date().isoformat()


def _counts_the_table(queries: list[dict[str, str]]) -> bool:
    return any(
        "COUNT(" in q["sql"].upper() and 'FROM "async_actions_asyncactionreport"' in q["sql"]
        for q in queries
    )


def main(args: list[str]) -> None:
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    parser = argparse.ArgumentParser(prog="python -m benchmarks dashboard")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    options = parser.parse_args(args)
    _seed(options.rows)

    operator, _ = User.objects.get_or_create(username="bench-operator")
    operator.is_superuser = True
    operator.save()
    client = Client()
    client.force_login(operator)

    rows = []
    over_budget = []
    for name, url in _pages():
        client.get(url)  # warm: connection, templates, PostgreSQL's buffers
        timings = []
        for _ in range(options.repeat):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        median = statistics.median(timings)
        if median >= BUDGET_MS:
            over_budget.append(name)
        sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
        rows.append((
            name, f"{median:.1f}", f"{max(timings):.1f}", f"{sql_ms:.1f}",
            str(len(captured.captured_queries)),
            "yes" if _counts_the_table(captured.captured_queries) else "no",
        ))
    from benchmarks.harness import print_table

    print_table(
        f"Server time per page, {options.rows:,} reports in PostgreSQL "
        f"({options.repeat} requests each; budget {BUDGET_MS:.0f} ms)",
        ("page", "median ms", "max ms", "of it SQL ms", "queries", "COUNT(*) on reports"),
        rows,
    )
    if over_budget:
        print(f"\nOver budget: {', '.join(over_budget)}")
    _cancel_check()


def _cancel_check(rounds: int = 3, count: int = 2000) -> None:
    """What the worker's cancel check adds per tracked message, beside a bare round trip."""
    from django.db import connection

    from async_actions.cancelling import cancel_requested
    from async_actions.models import AsyncActionReport

    ids = list(AsyncActionReport.objects.order_by("-id").values_list("id", flat=True)[:count])

    def select_one(_: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    results: dict[str, list[float]] = {"SELECT 1": [], "cancel check": []}
    for _ in range(rounds):  # interleaved: the machine's load hits both alike
        for name, call in (("SELECT 1", select_one), ("cancel check", cancel_requested)):
            started = time.perf_counter()
            for report_id in ids:
                call(report_id)
            results[name].append((time.perf_counter() - started) / len(ids) * 1e6)
    bare, check = (statistics.median(results[n]) for n in ("SELECT 1", "cancel check"))
    print(
        f"\nThe worker's cancel check, per tracked message: {check:.0f} us "
        f"(a bare SELECT 1 round trip: {bare:.0f} us; {check / bare:.2f}x)"
    )
