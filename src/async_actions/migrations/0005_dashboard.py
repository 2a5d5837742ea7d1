import uuid

from django.db import migrations, models


def fill_public_ids(apps, schema_editor):
    # A callable default gives every existing row the same value: give each its own.
    report_model = apps.get_model("async_actions", "AsyncActionReport")
    for pk in report_model.objects.filter(public_id__isnull=True).values_list("pk", flat=True):
        report_model.objects.filter(pk=pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("async_actions", "0004_tracker"),
    ]

    operations = [
        migrations.AddField(
            model_name="asyncactionreport",
            name="public_id",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="asyncactionreport",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
        ),
        migrations.AddField(
            model_name="asyncactionreport",
            name="signature",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="asyncactionreport",
            name="cancel_requested_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="asyncactionreport",
            name="progress_current",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="asyncactionreport",
            name="progress_total",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="asyncactionreport",
            name="progress_message",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.AddField(
            model_name="asyncactionstep",
            name="progress_current",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="asyncactionstep",
            name="progress_total",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AlterModelOptions(
            name="asyncactionreport",
            options={
                "ordering": ["-created_at", "-id"],
                "permissions": [
                    ("retry_asyncactionreport", "Can retry async action report"),
                    ("cancel_asyncactionreport", "Can cancel async action report"),
                ],
            },
        ),
        migrations.AddIndex(
            model_name="asyncactionreport",
            index=models.Index(fields=["origin", "-created_at"], name="aa_report_origin_latest"),
        ),
        migrations.AddIndex(
            model_name="asyncactionreport",
            index=models.Index(
                fields=["triggered_by", "-created_at"], name="aa_report_user_latest"
            ),
        ),
    ]
