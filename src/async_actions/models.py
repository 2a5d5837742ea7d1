"""The durable record of an async action: who started it, and how it went."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Status(models.TextChoices):
    PENDING = "pending", "pending"
    RUNNING = "running", "running"
    RETRYING = "retrying", "retrying"
    OK = "ok", "ok"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"
    LOST = "lost", "lost"


# A report in one of these states never moves again: late or duplicated events are ignored.
FINAL_STATUSES = (Status.OK, Status.FAILED, Status.CANCELLED, Status.LOST)
ACTIVE_STATUSES = (Status.PENDING, Status.RUNNING, Status.RETRYING)


class Origin(models.TextChoices):
    USER = "user", "user"
    # For actions started from the admin's own buttons (its retry sets it).
    ADMIN = "admin", "admin"
    SYSTEM = "system", "system"
    SCHEDULE = "schedule", "schedule"


ACTION_MAX_LENGTH = 255


class AsyncActionReport(models.Model):
    # The talk's fields.
    action = models.CharField(max_length=ACTION_MAX_LENGTH)
    # What URLs and the API show: sequential ids would be guessable.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error_message = models.TextField(blank=True, default="")
    error_traceback = models.TextField(blank=True, default="")

    # What the talk says to think about: who and what started it.
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="async_action_reports",
        db_index=False,  # aa_report_user_latest serves lookups by user
    )
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.SYSTEM)

    # Where it runs.
    task_name = models.CharField(max_length=255, blank=True, default="")
    task_id = models.CharField(max_length=255, blank=True, default="")  # indexed in Meta
    root_task_id = models.CharField(max_length=255, blank=True, default="")

    # Its life.
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_retry_error = models.TextField(blank=True, default="")
    # The attempt whose error last_retry_error is: a late event of an older one loses.
    last_retry_attempt = models.PositiveIntegerField(default=0)
    error_type = models.CharField(max_length=255, blank=True, default="")
    # 1 for a single task; a workflow has one AsyncActionStep per task.
    total_steps = models.PositiveIntegerField(default=1)

    # NULL, not "": the unique constraint must let any number of reports have no key.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    retry_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="retries",
        db_index=False,  # aa_report_retries: only the few retries are in it
    )

    # The signature (whole workflow) as the broker got it, so the action can be retried.
    signature = models.JSONField(null=True, blank=True, editable=False)
    # A person asked to stop it; the status still says what really happened.
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    # What the task reported with set_progress() (a workflow's steps report on their rows).
    progress_current = models.PositiveIntegerField(null=True, blank=True)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    progress_message = models.CharField(max_length=255, blank=True, default="")

    # Only for django.tasks runs (async_actions.django_tasks); other actions leave these empty.
    # (What was enqueued - task path, args, kwargs, backend, queue, priority, run_after - is
    # in `signature`: the arguments of async_actions.run_django_task.)
    # Written by the worker: what DEP 14's TaskResult reports besides the status.
    return_value = models.JSONField(null=True, blank=True)
    exception_class_path = models.CharField(max_length=255, blank=True, default="")
    last_attempted_at = models.DateTimeField(null=True, blank=True)
    # One entry per attempt, in order (DEP 14 counts attempts as len(worker_ids)).
    worker_ids = models.JSONField(default=list, blank=True)

    # Reliability (docs/reliability.md).
    # The worker process running it (AsyncActionWorker.name), set by each start (or by its
    # success, which carries a start the write-behind buffer merged into it).
    # Not indexed (no column a move changes is, see Meta): the reaper finds running reports
    # through async_actions.parking, then checks their workers.
    worker = models.CharField(max_length=255, blank=True, default="")
    # When the reaper declared it lost; kept when a later real outcome replaces `lost`.
    lost_at = models.DateTimeField(null=True, blank=True)
    # NULL until the broker accepted the message (the outbox); see async_actions_relay.
    sent_at = models.DateTimeField(null=True, blank=True)
    # Why the last publish failed, and the message to publish again (kombu JSON).
    send_error = models.TextField(blank=True, default="")
    outbox = models.TextField(blank=True, default="", editable=False)
    # Earliest time a worker may start it (countdown/ETA, a retry's next attempt): a pending
    # report is not lost before. Set while it is unfinished and older than the reaper's
    # mark; a success, failure or cancel clears it (async_actions.parking).
    not_before = models.DateTimeField(null=True, blank=True)
    # What was started under the idempotency key: same key, other action -> conflict.
    fingerprint = models.CharField(max_length=64, blank=True, default="", editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Every start INSERTs into each index, so no index without a query that needs it, no
        # LIKE (varchar_pattern_ops) twins, and partial indexes for columns most reports
        # leave NULL. No index holds a column a status move changes (status, started_at,
        # finished_at, worker, attempts): then PostgreSQL moves the row in place (a HOT
        # update) without writing any index again. Unfinished reports are found through
        # aa_report_latest and aa_report_waiting instead (async_actions.parking).
        permissions = [
            ("retry_asyncactionreport", "Can retry async action report"),
            ("cancel_asyncactionreport", "Can cancel async action report"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="async_actions_unique_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at"], name="aa_report_latest"),
            models.Index(fields=["action", "-created_at"], name="aa_report_action_latest"),
            # The relay's work list: only reports whose publish failed are in it.
            models.Index(
                fields=["created_at"],
                condition=Q(sent_at__isnull=True) & ~Q(outbox=""),
                name="aa_report_unsent",
            ),
            # The dashboard's other filters; each ends in the list's order.
            models.Index(fields=["origin", "-created_at"], name="aa_report_origin_latest"),
            models.Index(
                fields=["triggered_by", "-created_at"],
                condition=Q(triggered_by__isnull=False),
                name="aa_report_user_latest",
            ),
            models.Index(
                fields=["retry_of"], condition=Q(retry_of__isnull=False), name="aa_report_retries"
            ),
            # Unfinished reports older than the reaper's mark: waiting for a countdown or a
            # retry, parked by the reaper, or lost (async_actions.parking).
            models.Index(
                fields=["not_before"],
                condition=Q(not_before__isnull=False),
                name="aa_report_waiting",
            ),
            # The worker's lookup of a task it has no report id for (a killed child's failure).
            models.Index(fields=["task_id"], name="aa_report_task_id"),
        ]

    def __str__(self) -> str:
        return f"{self.action} [{self.status}]"

    @property
    def is_finished(self) -> bool:
        return self.status in FINAL_STATUSES


class StepStatus(models.TextChoices):
    PENDING = "pending", "pending"
    RUNNING = "running", "running"
    RETRYING = "retrying", "retrying"
    OK = "ok", "ok"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"


STEP_ACTIVE_STATUSES = (StepStatus.PENDING, StepStatus.RUNNING, StepStatus.RETRYING)
# A workflow is done when every step is in one of these.
STEP_DONE_STATUSES = (StepStatus.OK,)


class AsyncActionStep(models.Model):
    """One task of a workflow (chain, group, chord) tracked by a report."""

    report = models.ForeignKey(
        AsyncActionReport,
        on_delete=models.CASCADE,
        related_name="steps",
        db_index=False,  # indexed in Meta (aa_step_report)
    )
    task_id = models.CharField(max_length=255)  # unique in Meta (no LIKE twin)
    task_name = models.CharField(max_length=255)
    # Order in the workflow: tasks that may run at once share a position, told apart by
    # their parallel branch ("0", "1", "0.2" for a group inside a group ...).
    position = models.PositiveIntegerField()
    branch = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, choices=StepStatus.choices, default=StepStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_retry_attempt = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_type = models.CharField(max_length=255, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    error_traceback = models.TextField(blank=True, default="")
    progress_current = models.PositiveIntegerField(null=True, blank=True)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    worker = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["report", "position", "branch", "id"]
        indexes = [
            # Not with the status: a step's moves then update its row in place (HOT), and no
            # index on status can tempt the planner away from task_id in the batched UPDATE.
            models.Index(fields=["report"], name="aa_step_report"),
        ]
        constraints = [
            # Every task of a workflow has its own id (Task.replace hands the replaced task's
            # row to the task that takes its id). Unique, the batched UPDATE that moves
            # steps by task id is planned on this index whatever the table's statistics say.
            models.UniqueConstraint(fields=["task_id"], name="aa_step_task_id_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.position}{'/' + self.branch if self.branch else ''} {self.task_name}"


class AsyncActionWorker(models.Model):
    """A worker process that runs tracked tasks, and when it last said it was alive.

    A report whose worker has been silent for WORKER_LOST_AFTER seconds is lost; one whose
    worker still beats is not, however long its task runs.
    """

    # "hostname:pid", the value a report's `worker` column holds.
    name = models.CharField(max_length=255, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return self.name


class AsyncActionReapMark(models.Model):
    """One row: every report created before `parked_before` is finished or parked.

    See async_actions.parking: the reaper and the dashboard find unfinished reports from here.
    """

    ONLY = 1

    parked_before = models.DateTimeField()

    def __str__(self) -> str:
        return f"parked before {self.parked_before:%Y-%m-%d %H:%M:%S}"
