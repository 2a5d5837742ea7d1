"""Issue 2's two scenarios, through the page's buttons, on a real worker."""

import pytest

from async_actions import AsyncActionReport, Origin, Status
from async_actions.testing import wait_for_report

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("async_actions_worker"),
]


def start(client, url: str) -> AsyncActionReport:
    response = client.post(url)
    assert response.status_code == 302
    report = AsyncActionReport.objects.latest("created_at", "id")
    assert response["Location"] == f"/demo/?report={report.pk}"
    return report


def test_the_succeeding_action_ends_ok_and_names_who_started_it(admin_client_logged_in):
    report = wait_for_report(start(admin_client_logged_in, "/basics/succeed/"))

    assert report.status == Status.OK
    assert report.action == "Say hello"
    assert report.triggered_by.username == "admin"
    assert report.origin == Origin.USER
    assert report.attempts == 1


def test_the_failing_action_ends_failed_with_its_traceback(admin_client_logged_in):
    report = wait_for_report(start(admin_client_logged_in, "/basics/fail/"))

    assert report.status == Status.FAILED
    assert report.error_type == "ZeroDivisionError"
    assert report.error_message == "ZeroDivisionError: division by zero"
    assert "numerator / denominator" in report.error_traceback


def test_both_reports_are_listed_in_the_admin_and_on_the_page(admin_client_logged_in):
    ok = wait_for_report(start(admin_client_logged_in, "/basics/succeed/"))
    failed = wait_for_report(start(admin_client_logged_in, "/basics/fail/"))

    client = admin_client_logged_in
    admin_page = client.get("/admin/async_actions/asyncactionreport/").content.decode()
    home = client.get("/demo/").content.decode()
    status = admin_client_logged_in.get(f"/reports/{failed.pk}.json").json()

    for page in (admin_page, home):
        assert "Say hello" in page and "Divide by zero" in page
    assert ok.status == Status.OK
    assert status["status"] == "failed" and status["finished"] is True
    assert status["error_message"] == "ZeroDivisionError: division by zero"


def test_starting_needs_a_login_and_a_post(client):
    assert client.get("/basics/succeed/").status_code == 405
    assert client.post("/basics/succeed/")["Location"].startswith("/admin/login/")
    assert not AsyncActionReport.objects.exists()


def test_the_django_tasks_scenario_is_a_tracked_action_with_a_result(admin_client_logged_in):
    from example.basics.jobs import count_words

    report = wait_for_report(start(admin_client_logged_in, "/basics/django-task/"))
    result = count_words.get_result(str(report.pk))

    assert (report.status, report.action, report.triggered_by.username) == (
        Status.OK,
        "Count words",
        "admin",
    )
    assert result.status == "SUCCESSFUL"
    assert result.return_value == {"words": 5, "longest": "Trustworthy"}
