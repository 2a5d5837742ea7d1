# The enqueued django.tasks call is read from the stored signature (the runner's arguments).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("async_actions", "0006_django_tasks"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="asyncactionreport",
            name="task_call",
        ),
    ]
