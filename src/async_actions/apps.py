from django.apps import AppConfig


class AsyncActionsConfig(AppConfig):
    name = "async_actions"
    verbose_name = "Async actions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from async_actions import checks  # noqa: F401  (registers the system checks)
        from async_actions.tracking import connect_signals

        connect_signals()
