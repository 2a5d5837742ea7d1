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
