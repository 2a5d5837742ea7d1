"""The example's settings for its test run.

    python -m pytest example/tests -p async_actions.testing.plugin \
        --ds=example.tests.settings -o async_actions_celery_app=example.celery:app

Every run gets a var/ directory of its own (database file, broker folder), so the tests
never touch a running demo's data. The values go into os.environ before the example's
settings are read, so the test worker subprocess inherits exactly the same ones.
"""

import os
import tempfile
import uuid

_run = os.environ.setdefault("EXAMPLE_TEST_RUN", uuid.uuid4().hex[:10])
os.environ.setdefault("EXAMPLE_VAR_DIR", tempfile.mkdtemp(prefix=f"aa-example-{_run}-"))
# Short waits between retries, and few of them, so failure scenarios finish in seconds.
os.environ.setdefault("INVOICES_PLUS_BACKOFF_SECONDS", "0.1")
os.environ.setdefault("INVOICES_PLUS_MAX_RETRIES", "8")
os.environ.setdefault("INVOICES_PLUS_TIMEOUT", "2")

from example.settings import *  # noqa: E402, F403
from example.settings import DATABASES, VAR_DIR  # noqa: E402

# A file, not memory: the worker runs in another process. PostgreSQL: a name of the run's own.
DATABASES["default"]["TEST"] = {
    "NAME": str(VAR_DIR / "test.sqlite3")
    if DATABASES["default"]["ENGINE"].endswith("sqlite3")
    else f"aa_example_test_{_run}"
}
