"""The dashboard in a real browser, against a live server and a real worker."""

from __future__ import annotations

import re

import pytest
from celery import chain, group

from async_actions import AsyncActionReport, Status, start_action
from async_actions.testing import wait_for_report
from tests.browser.conftest import SCREENSHOTS
from tests.testapp import tasks

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("async_actions_worker"),
]


def _row_status(page, report):
    return page.locator(f"#report-{report.public_id} .aa-status .aa-badge").first


def test_a_row_turns_ok_without_a_reload(signed_in_page, live_server, admin_user):
    page = signed_in_page
    report = start_action(
        "Send welcome mail", tasks.create_marker.s("welcome", sleep=1.5), triggered_by=admin_user
    )
    page.goto(f"{live_server.url}/actions/")
    page.evaluate("window.notReloaded = true")
    assert _row_status(page, report).inner_text() in ("pending", "running")

    page.wait_for_function(
        f"document.querySelector('#report-{report.public_id} .aa-badge').textContent === 'ok'"
    )

    assert page.evaluate("window.notReloaded") is True  # updated in place
    bar = page.locator(f"#report-{report.public_id} [role=progressbar]")
    assert bar.get_attribute("aria-valuenow") == "100"


def test_a_failed_actions_traceback_and_its_retry(signed_in_page, live_server, admin_user):
    page = signed_in_page
    failed = wait_for_report(
        start_action("Import contacts", tasks.fail.s("row 7 is bad"), triggered_by=admin_user)
    )
    page.goto(f"{live_server.url}/actions/?status=failed")
    page.click(f"#report-{failed.public_id} a")

    traceback = page.locator(".aa-traceback pre")
    assert not traceback.is_visible()
    page.click(".aa-traceback summary")
    assert traceback.is_visible() and "ValueError: row 7 is bad" in traceback.inner_text()

    page.click("button.aa-retry")
    page.wait_for_url(re.compile(r"/actions/[0-9a-f-]{36}/$"))
    again = AsyncActionReport.objects.get(retry_of=failed)
    assert page.url.endswith(f"/actions/{again.public_id}/")
    assert page.locator(".aa-facts", has_text="Retry of").is_visible()
    page.wait_for_function("document.querySelector('h1 .aa-badge').textContent === 'failed'")


def test_cancel_a_slow_workflow(signed_in_page, live_server, admin_user):
    page = signed_in_page
    report = start_action(
        "Rebuild search index",
        chain(
            tasks.create_marker.si("index-1", sleep=3),
            tasks.create_marker.si("index-2"),
            tasks.create_marker.si("index-3"),
        ),
        triggered_by=admin_user,
    )
    page.goto(f"{live_server.url}/actions/{report.public_id}/")
    page.wait_for_selector(".aa-lane.aa-step-running")

    page.click("button.aa-cancel")
    page.wait_for_selector(".aa-cancel-requested")
    page.wait_for_function("document.querySelector('h1 .aa-badge').textContent === 'cancelled'")
    page.wait_for_selector(".aa-head[data-finished='1']")  # step 1's end recorded too

    lanes = page.locator(".aa-lane .aa-lane-meta .aa-badge").all_inner_texts()
    assert lanes == ["ok", "cancelled", "cancelled"]
    assert wait_for_report(report).status == Status.CANCELLED


def test_a_progress_bar_moves(signed_in_page, live_server, admin_user):
    page = signed_in_page
    report = start_action(
        "Count invoices", tasks.count_with_progress.s(6, 0.5), triggered_by=admin_user
    )
    page.goto(f"{live_server.url}/actions/{report.public_id}/")
    bar = "document.querySelector('.aa-head [role=progressbar]')"

    page.wait_for_function(
        f"(() => {{ const v = +{bar}.getAttribute('aria-valuenow'); return v > 0 && v < 100; }})()"
    )
    middle = int(page.locator(".aa-head [role=progressbar]").get_attribute("aria-valuenow"))
    page.wait_for_function(f"{bar}.getAttribute('aria-valuenow') === '100'")

    assert 0 < middle < 100
    assert "item 6 of 6" in page.locator(".aa-head").inner_text()


def test_screenshots_of_the_list_and_the_detail(signed_in_page, live_server, admin_user):
    """The README's pictures: a few real actions of every kind, on a laptop and a phone."""
    page = signed_in_page
    finished = [
        start_action("Send welcome mail", tasks.noop.s(), triggered_by=admin_user),
        start_action("Import contacts", tasks.fail.s("row 7: bad e-mail"), triggered_by=admin_user),
        start_action("Nightly cleanup", tasks.add.s(1, 2), origin="schedule"),
        start_action(
            "Sync invoices",
            chain(
                tasks.flaky_step.si("fetch"),
                group(tasks.timed.si(f"store-{i}", 0.3 * i) for i in range(1, 4)),
                tasks.fail.si("the accounting API said 503"),
            ),
            triggered_by=admin_user,
        ),
    ]
    for report in finished:
        wait_for_report(report)
    running = start_action(
        "Rebuild search index", tasks.count_with_progress.s(40, 0.5), triggered_by=admin_user
    )
    page.goto(f"{live_server.url}/actions/{running.public_id}/")
    page.wait_for_function(
        "+document.querySelector('.aa-head [role=progressbar]').getAttribute('aria-valuenow') > 5"
    )

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/actions/")
    table = page.locator(".aa-table").bounding_box()
    page.screenshot(  # down to the table's end: no empty page in the README
        path=SCREENSHOTS / "dashboard-list.png",
        clip={"x": 0, "y": 0, "width": 1280, "height": table["y"] + table["height"] + 24},
    )
    sync = AsyncActionReport.objects.get(action="Sync invoices")
    page.goto(f"{live_server.url}/actions/{sync.public_id}/")
    page.click(".aa-traceback summary")
    page.screenshot(path=SCREENSHOTS / "dashboard-detail.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/actions/")
    page.screenshot(path=SCREENSHOTS / "dashboard-phone.png", full_page=True)
    # The phone layout fits its width: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{live_server.url}/actions/{sync.public_id}/")
    page.screenshot(path=SCREENSHOTS / "dashboard-detail-phone.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    for name in ("list", "detail", "phone", "detail-phone"):
        assert (SCREENSHOTS / f"dashboard-{name}.png").stat().st_size > 10_000


def test_the_admins_step_table_fits_the_page(signed_in_page, live_server):
    from async_actions import AsyncActionStep

    report = AsyncActionReport.objects.create(
        action="Sync invoices", status="failed", total_steps=2
    )
    for number, message in enumerate(["ConnectionError: " + "a long message " * 40, "x" * 400]):
        AsyncActionStep.objects.create(
            report=report,
            task_id=f"t{number}",
            task_name="example.invoices.tasks._fetch_page",
            position=number,
            status="failed",
            error_message=message,
        )
    page = signed_in_page
    page.goto(f"{live_server.url}/admin/async_actions/asyncactionreport/{report.pk}/change/")

    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert page.locator("#steps-group td.field-number").all_inner_texts() == ["1", "2"]
