"""The Celery app the outbox tests publish with: their own, on a Redis of the test's own."""

from celery import Celery, Task


class BrokenPublish(Task):
    """A project's task base whose publish hook raises (not a broker error)."""

    def apply_async(self, *args, **kwargs):
        raise RuntimeError("the project's publish hook failed")


def outbox_app(broker_url: str, queue: str, *, current: bool = False) -> Celery:
    app = Celery("outbox", broker=broker_url, set_as_current=current)
    app.conf.task_default_queue = queue

    @app.task(name="outbox.add", shared=False)
    def add(x, y):
        return x + y

    @app.task(name="outbox.broken", base=BrokenPublish, shared=False)
    def broken(value):
        return value

    return app
