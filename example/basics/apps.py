from django.apps import AppConfig


class BasicsConfig(AppConfig):
    """The two smallest tracked actions: one that succeeds and one that fails."""

    name = "example.basics"
