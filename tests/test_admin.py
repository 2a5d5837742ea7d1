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
    assert "50% of 2 step(s)" in content
