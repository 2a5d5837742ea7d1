from celery import shared_task


@shared_task
def noop() -> None:
    return None


@shared_task(ignore_result=False)
def noop_with_result() -> None:
    return None


@shared_task(ignore_result=False)
def summary(results: list) -> int:
    return len(results)
