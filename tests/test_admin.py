"""The admin shows reports read-only, with tracebacks escaped."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from async_actions import AsyncActionReport, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("admin", "a@example.com", "pw"))
    return client


def test_list_and_detail_show_the_report_with_an_escaped_traceback(admin_client):
    report = AsyncActionReport.objects.create(
        action="Sync <invoices>",
        status=Status.FAILED,
        error_message="boom",
        error_traceback='Traceback ...\n  <script>alert("x")</script>',
    )

    listing = admin_client.get(reverse("admin:async_actions_asyncactionreport_changelist"))
    detail = admin_client.get(
        reverse("admin:async_actions_asyncactionreport_change", args=[report.pk])
    )

    assert listing.status_code == 200 and b"Sync &lt;invoices&gt;" in listing.content
    assert detail.status_code == 200
    assert b"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in detail.content
    assert b'<script>alert("x")</script>' not in detail.content


def test_reports_cannot_be_added_or_changed(admin_client):
    report = AsyncActionReport.objects.create(action="Read only")

    add = admin_client.get(reverse("admin:async_actions_asyncactionreport_add"))
    post = admin_client.post(
        reverse("admin:async_actions_asyncactionreport_change", args=[report.pk]),
        {"action": "Changed", "status": "ok"},
    )

    assert add.status_code == 403
    assert post.status_code == 403
    report.refresh_from_db()
    assert (report.action, report.status) == ("Read only", Status.PENDING)


def test_not_even_a_superuser_deletes_a_report(admin_client):
    report = AsyncActionReport.objects.create(action="Audit trail", status=Status.OK)
    changelist = reverse("admin:async_actions_asyncactionreport_changelist")

    delete = admin_client.post(
        reverse("admin:async_actions_asyncactionreport_delete", args=[report.pk]), {"post": "yes"}
    )
    bulk = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [report.pk], "post": "yes"}
    )
    listing = admin_client.get(changelist)

    assert delete.status_code == 403
    assert b"delete_selected" not in listing.content
    assert bulk.status_code in (200, 302)  # the unknown action is refused, nothing deleted
    assert AsyncActionReport.objects.filter(pk=report.pk).exists()


def test_a_workflow_report_shows_its_steps_and_progress(admin_client):
    from async_actions import AsyncActionStep

    report = AsyncActionReport.objects.create(action="Workflow", total_steps=2)
    AsyncActionStep.objects.create(
        report=report, task_id="a", task_name="proj.tasks._fetch", position=0, status="ok"
    )
    AsyncActionStep.objects.create(
        report=report, task_id="b", task_name="proj.tasks._store", position=1, status="running"
    )

    detail = admin_client.get(
        reverse("admin:async_actions_asyncactionreport_change", args=[report.pk])
    )

    content = detail.content.decode()
    assert "proj.tasks._fetch" in content and "proj.tasks._store" in content
    assert "50% (1 of 2)" in content


# -- the dashboard's issue: retry and cancel as admin actions, what was misleading -------------


def _staff(*codenames):
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user(f"staff-{'-'.join(codenames)}", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def _run_action(client, action, report):
    return client.post(
        reverse("admin:async_actions_asyncactionreport_changelist"),
        {"action": action, "_selected_action": [report.pk]},
        follow=True,
    )


def test_admin_retry_and_cancel_need_their_own_permissions(client):
    from async_actions import start_action
    from tests.testapp import tasks

    failed = start_action("Import", tasks.noop.s())
    AsyncActionReport.objects.filter(pk=failed.pk).update(status="failed")
    running = start_action("Export", tasks.noop.s())

    client.force_login(_staff("view_asyncactionreport"))
    _run_action(client, "retry_reports", failed)
    _run_action(client, "cancel_reports", running)
    assert AsyncActionReport.objects.count() == 2
    assert AsyncActionReport.objects.get(pk=running.pk).cancel_requested_at is None

    client.force_login(
        _staff("view_asyncactionreport", "retry_asyncactionreport", "cancel_asyncactionreport")
    )
    _run_action(client, "retry_reports", failed)
    _run_action(client, "cancel_reports", running)
    again = AsyncActionReport.objects.get(retry_of=failed)
    assert again.origin == "admin"
    assert AsyncActionReport.objects.get(pk=running.pk).cancel_requested_at is not None


def test_an_ok_report_shows_its_retried_error_as_history_and_no_zero_attempts(admin_client):
    report = AsyncActionReport.objects.create(
        action="Recovered", status="ok", attempts=2, last_retry_error="ConnectionError: flaked"
    )
    workflow = AsyncActionReport.objects.create(action="Workflow done", status="ok", total_steps=3)

    page = admin_client.get(
        reverse("admin:async_actions_asyncactionreport_change", args=[report.pk])
    ).content.decode()
    listing = admin_client.get(
        reverse("admin:async_actions_asyncactionreport_changelist")
    ).content.decode()

    assert "recovered after: ConnectionError: flaked" in page
    assert 'class="field-attempts_shown">per step<' in listing.replace("</td>", "<")
    assert workflow.attempts == 0 and 'field-attempts_shown">0<' not in listing
