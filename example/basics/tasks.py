"""Tasks for the two basic scenarios. They know nothing about reports: tracking needs no change."""

import time

from celery import shared_task


@shared_task
def greet(name: str) -> str:
    time.sleep(1)  # long enough to watch the report go pending -> running -> ok
    return f"Hello, {name}!"


@shared_task
def divide(numerator: float, denominator: float) -> float:
    # divide(1, 0) fails with a real ZeroDivisionError and a traceback worth storing.
    return numerator / denominator
