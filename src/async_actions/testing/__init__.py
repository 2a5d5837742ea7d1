"""Test helpers: a real worker in a subprocess, waiting on reports, and a pytest plugin.

Enable the plugin with ``pytest_plugins = ["async_actions.testing.plugin"]`` and set
``async_actions_celery_app = "proj.celery:app"`` in your pytest configuration.
"""

from async_actions.testing.waiting import wait_for, wait_for_report
from async_actions.testing.worker import WorkerProcess

__all__ = ["WorkerProcess", "wait_for", "wait_for_report"]
