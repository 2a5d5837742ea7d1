"""The dashboard's pages, its JSON API, and who may see and steer what.

The five people of the permission matrix: an anonymous visitor, a signed-in user with no
permission who did not start the report, the user who started it (no permission), a
viewer (view_asyncactionreport) and a full operator (view + retry + cancel).
"""

import uuid

import pytest
from celery import chain
from django.contrib.auth.models import Permission, User
from django.test import Client

from async_actions import AsyncActionReport, Status, start_action
from async_actions.tracker import get_tracker
from tests.testapp import tasks

pytestmark = pytest.mark.django_db

DETAIL_KEYS = {
    "id",
    "action",
    "status",
    "progress",
    "steps",
    "error",
    "created_at",
    "started_at",
    "finished_at",
    "retry_of",
}
STEP_KEYS = {"name", "status", "position", "branch", "started_at", "finished_at", "attempts"}


def _user(name, *codenames):
    user = User.objects.create_user(name)  # no password: force_login, and no slow hashing
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def people():
    return {
        "nobody": _user("nobody"),
        "starter": _user("starter"),
        "viewer": _user("viewer", "view_asyncactionreport"),
        "full": _user(
            "full", "view_asyncactionreport", "retry_asyncactionreport", "cancel_asyncactionreport"
        ),
    }


def _client(user=None, **kwargs):
    client = Client(**kwargs)
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def failed(people):
    report = start_action(
        "Import contacts", chain(tasks.add.s(1, 2), tasks.fail.s()), triggered_by=people["starter"]
    )
    get_tracker().fail(
        report_id=report.pk,
        error_type="ValueError",
        error_message="bad row 7",
        error_traceback='Traceback ...\n  File "x.py"\nValueError: <b>bad</b>',
    )
    report.refresh_from_db()
    return report


def _url(report, suffix=""):
    return f"/actions/{report.public_id}/{suffix}"


# -- reading -----------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_login_and_the_api_answers_403(failed):
    client = _client()
    for url in ("/actions/", _url(failed)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    for url in ("/actions/api/", f"/actions/api/{failed.public_id}/"):
        response = client.get(url)
        assert response.status_code == 403 and "error" in response.json()


@pytest.mark.parametrize("who, sees", [("nobody", False), ("starter", True), ("viewer", True)])
def test_who_sees_a_report(people, failed, who, sees):
    client = _client(people[who])
    listed = client.get("/actions/").content.decode()
    api_list = client.get("/actions/api/").json()["results"]

    assert ("Import contacts" in listed) is sees
    assert [item["id"] for item in api_list] == ([str(failed.public_id)] if sees else [])
    assert client.get(_url(failed)).status_code == (200 if sees else 404)
    assert client.get(f"/actions/api/{failed.public_id}/").status_code == (200 if sees else 404)


def test_a_hidden_report_answers_exactly_like_a_missing_one(people, failed):
    client = _client(people["nobody"])
    hidden = client.get(f"/actions/api/{failed.public_id}/")
    missing = client.get(f"/actions/api/{uuid.uuid4()}/")

    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())
    assert (
        client.get(_url(failed)).status_code == client.get(f"/actions/{uuid.uuid4()}/").status_code
    )


def test_the_detail_json_has_exactly_the_documented_keys(people, failed):
    data = _client(people["viewer"]).get(f"/actions/api/{failed.public_id}/").json()

    assert set(data) == DETAIL_KEYS
    assert data["id"] == str(failed.public_id) and data["status"] == "failed"
    assert data["error"] == {"type": "ValueError", "message": "bad row 7"}
    assert set(data["progress"]) == {"current", "total", "percent", "message"}
    assert data["progress"] == {"current": 0, "total": 2, "percent": 0, "message": ""}
    assert [step["position"] for step in data["steps"]] == [1, 2]  # people count from 1
    assert all(set(step) == STEP_KEYS for step in data["steps"])
    assert data["retry_of"] is None


def test_the_json_list_filters_and_pages_without_counting(people, failed, settings):
    settings.ASYNC_ACTIONS = {"DASHBOARD_PAGE_SIZE": 2}
    for number in range(3):
        start_action(f"Export {number}", tasks.noop.s(), triggered_by=people["starter"])
    client = _client(people["viewer"])

    first = client.get("/actions/api/").json()
    second = client.get(first["next"]).json()
    only_failed = client.get("/actions/api/?status=failed").json()
    by_action = client.get("/actions/api/?action=Export 1").json()

    assert [r["action"] for r in first["results"]] == ["Export 2", "Export 1"]
    assert [r["action"] for r in second["results"]] == ["Export 0", "Import contacts"]
    assert second["next"] is None
    assert [r["id"] for r in only_failed["results"]] == [str(failed.public_id)]
    assert [r["action"] for r in by_action["results"]] == ["Export 1"]
    assert "steps" not in first["results"][0]


@pytest.mark.parametrize(
    "query, message",
    [
        ("status=done", "status must be one of"),
        ("origin=robot", "origin must be one of"),
        ("date=yesterday", "date must look like"),
        ("before=42", "before must be a report id"),
    ],
)
def test_bad_filters_answer_400_naming_the_filter(people, query, message):
    client = _client(people["viewer"])

    assert message in client.get(f"/actions/api/?{query}").json()["error"]
    page = client.get(f"/actions/?{query}")
    assert page.status_code == 400 and message in page.content.decode()


def test_dashboard_filters_search_and_live_fragment(people, failed):
    start_action("Send newsletter", tasks.noop.s(), triggered_by=people["full"], origin="admin")
    client = _client(people["viewer"])

    def actions(query):
        assert client.get(f"/actions/?{query}").status_code == 200
        page = client.get(f"/actions/?{query}&fragment=rows").content.decode()
        return [name for name in ("Import contacts", "Send newsletter") if name in page]

    assert actions("") == ["Import contacts", "Send newsletter"]
    assert actions("status=failed") == ["Import contacts"]
    assert actions("origin=admin") == ["Send newsletter"]
    assert actions("q=newslet") == ["Send newsletter"]
    assert actions(f"q={failed.public_id}") == ["Import contacts"]
    assert actions(f"date={failed.created_at.date().isoformat()}") == actions("")
    assert actions("date=2001-01-01") == []
    fragment = client.get("/actions/?fragment=rows").content.decode()
    assert fragment.lstrip().startswith("<tr") and f"report-{failed.public_id}" in fragment


def test_detail_shows_the_error_escaped_traceback_timeline_and_masked_arguments(people):
    report = start_action(
        "Connect",
        tasks.connect.s("db.example.com", "hunter2-secret", {"api_key": "k-123456"}),
        triggered_by=people["starter"],
    )
    get_tracker().fail(
        report_id=report.pk,
        error_type="ValueError",
        error_message="no",
        error_traceback="ValueError: <script>alert(1)</script>",
    )
    page = _client(people["starter"]).get(_url(report)).content.decode()

    assert "db.example.com" in page
    assert "hunter2-secret" not in page and "k-123456" not in page
    assert "password=********************" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page


def test_workflow_steps_are_numbered_from_one_in_the_timeline(people, failed):
    page = _client(people["viewer"]).get(_url(failed)).content.decode()

    assert "<b>1</b> add" in page and "<b>2</b> fail" in page


# -- retry and cancel --------------------------------------------------------------------------


def test_retry_and_cancel_answer_405_to_get(people, failed):
    client = _client(people["full"])
    assert client.get(_url(failed, "retry/")).status_code == 405
    assert client.get(_url(failed, "cancel/")).status_code == 405


@pytest.mark.parametrize("action", ["retry/", "cancel/"])
def test_who_may_retry_and_cancel(people, failed, action):
    anonymous = _client().post(_url(failed, action))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert _client(people["nobody"]).post(_url(failed, action)).status_code == 404
    assert _client(people["starter"]).post(_url(failed, action)).status_code == 403
    assert _client(people["viewer"]).post(_url(failed, action)).status_code == 403
    assert AsyncActionReport.objects.count() == 1


def test_retry_and_cancel_need_the_csrf_token(people, failed):
    client = _client(people["full"], enforce_csrf_checks=True)

    assert client.post(_url(failed, "retry/")).status_code == 403
    assert AsyncActionReport.objects.count() == 1


def test_retry_starts_the_stored_workflow_again_as_a_new_report(people, failed):
    response = _client(people["full"]).post(_url(failed, "retry/"))

    again = AsyncActionReport.objects.exclude(pk=failed.pk).get()
    assert response.status_code == 302 and response["Location"] == _url(again)
    assert (again.retry_of, again.action, again.total_steps) == (failed, "Import contacts", 2)
    assert again.signature == failed.signature and again.triggered_by == people["full"]
    assert again.task_id != failed.task_id
    page = _client(people["full"]).get(_url(failed)).content.decode()
    assert _url(again) in page  # the original links to its retries


def test_retry_of_an_unfinished_report_is_refused_with_a_reason(people):
    running = start_action("Still going", tasks.noop.s(), triggered_by=people["full"])

    response = _client(people["full"]).post(_url(running, "retry/"))

    assert response.status_code == 409 and "still pending" in response.content.decode()
    assert AsyncActionReport.objects.count() == 1


def test_cancel_records_the_request_but_not_a_status_nobody_saw(people):
    report = start_action("Long export", tasks.noop.s(), triggered_by=people["full"])

    response = _client(people["full"]).post(_url(report, "cancel/"))

    report.refresh_from_db()
    assert response.status_code == 302
    assert report.cancel_requested_at is not None and report.status == Status.PENDING
    page = _client(people["full"]).get(_url(report)).content.decode()
    assert "cancel requested" in page and 'class="aa-cancel"' not in page


def test_positions_with_gaps_are_shown_from_one_without_gaps_everywhere(people):
    from async_actions import AsyncActionStep
    from async_actions.selectors import step_number

    report = AsyncActionReport.objects.create(action="Gaps", total_steps=4)
    for task_id, position, branch in [("a", 0, ""), ("b", 2, "0"), ("c", 2, "1"), ("d", 5, "")]:
        AsyncActionStep.objects.create(
            report=report,
            task_id=task_id,
            task_name=f"proj.{task_id}",
            position=position,
            branch=branch,
        )
    client = _client(people["viewer"])

    steps = client.get(f"/actions/api/{report.public_id}/").json()["steps"]
    page = client.get(_url(report)).content.decode()

    assert [(s["position"], s["branch"]) for s in steps] == [(1, ""), (2, "0"), (2, "1"), (3, "")]
    assert [step_number(report_id=report.pk, position=p) for p in (0, 2, 5)] == [1, 2, 3]
    assert "<b>2.1</b> b" in page and "<b>2.2</b> c" in page and "<b>3</b> d" in page
