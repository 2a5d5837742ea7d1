from django.db import models


class Marker(models.Model):
    """Written by test tasks, so a test can see that (and where) a task really ran."""

    name = models.CharField(max_length=100)
    worker = models.CharField(max_length=255, blank=True, default="")
    pid = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class StepTiming(models.Model):
    """When a workflow step really started and ended, as the task itself saw it."""

    name = models.CharField(max_length=100)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class SignalRecord(models.Model):
    """Written by the test app's receivers of the library's signals (see apps.py)."""

    report_id = models.BigIntegerField()
    kind = models.CharField(max_length=16)
    status = models.CharField(max_length=16, blank=True, default="")
    error = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"{self.kind} {self.report_id}"
