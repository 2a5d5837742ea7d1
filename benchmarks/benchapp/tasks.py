from typing import Any

from celery import Task, shared_task


@shared_task
def noop() -> None:
    return None


@shared_task(ignore_result=False)
def noop_with_result() -> None:
    return None


@shared_task(ignore_result=False)
def summary(results: list) -> int:
    return len(results)


class TalkBaseTask(Task):
    """The talk's hand-written pattern: the task's hooks update the report the caller made."""

    def on_success(self, retval: Any, task_id: str, args: Any, kwargs: Any) -> None:
        from async_actions.models import AsyncActionReport

        AsyncActionReport.objects.filter(pk=kwargs["async_action_report_id"]).update(status="ok")

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        from async_actions.models import AsyncActionReport

        AsyncActionReport.objects.filter(pk=kwargs["async_action_report_id"]).update(
            status="failed", error_message=str(exc), error_traceback=str(einfo)
        )


@shared_task(base=TalkBaseTask)
def talk_noop(**kwargs: Any) -> None:
    return None


# -- the soak (benchmarks/soak.py): ground truth kept in Redis, never in the report ------

SOAK_ATTEMPTS = "aa-soak:attempts"  # hash: action index -> attempts that started
SOAK_OUTCOME = "aa-soak:outcome"  # hash: action index -> "ok" | "failed", set by the last one
SOAK_LAST = "aa-soak:last-finish"  # unix time of the latest final outcome


class SoakFailure(Exception):
    pass


@shared_task(bind=True, max_retries=5, acks_late=True)
def soak_step(self, index: int, failures: int, fails_finally: bool, sleep: float) -> str:
    """Fail `failures` times (retried), then succeed or, with `fails_finally`, fail for good."""
    import time

    from benchmarks.clock import client

    redis = client()
    redis.hincrby(SOAK_ATTEMPTS, index, 1)
    time.sleep(sleep)
    if self.request.retries < failures:
        raise self.retry(
            exc=SoakFailure(f"planned failure {self.request.retries + 1}"), countdown=0.05
        )
    outcome = "failed" if fails_finally else "ok"
    redis.pipeline(transaction=False).hset(SOAK_OUTCOME, index, outcome).set(
        SOAK_LAST, repr(time.time())
    ).execute()
    if fails_finally:
        raise SoakFailure(f"action {index} fails for good")
    return outcome
