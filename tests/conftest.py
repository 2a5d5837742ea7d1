from tests.celery_app import app as celery_app  # noqa: F401  (the app tasks bind to)
