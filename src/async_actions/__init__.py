"""django-async-actions: trustworthy background work for Django + Celery."""

__version__ = "0.1.0"
