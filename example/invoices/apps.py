from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    """The talk's example: fetch invoices from InvoicesPlus and store them."""

    name = "example.invoices"
