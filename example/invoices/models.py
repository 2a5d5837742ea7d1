"""What we keep of InvoicesPlus: the accounts we sync and their invoices (the talk's
ThirdPartyDataStorage), and which report each sync of an account is."""

from django.db import models

from async_actions import AsyncActionReport


class Account(models.Model):
    name = models.CharField(max_length=100)
    external_id = models.CharField(max_length=100, unique=True)  # InvoicesPlus' account id
    last_synced_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class Invoice(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="invoices")
    external_id = models.CharField(max_length=100)
    number = models.CharField(max_length=100)
    customer = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    issued_on = models.DateField()
    status = models.CharField(max_length=20)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-issued_on", "-id"]
        constraints = [
            # What makes storing idempotent: a page stored twice updates, never duplicates.
            models.UniqueConstraint(
                fields=["account", "external_id"], name="invoice_unique_per_account"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class InvoiceSync(models.Model):
    """Links a "Sync invoices" report to the account it syncs (the report knows no accounts)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="syncs")
    report = models.OneToOneField(AsyncActionReport, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"{self.account} / report {self.report_id}"


class AccountsSync(models.Model):
    """One "Sync all accounts" fan-out: its report, and the summary its last step writes."""

    report = models.OneToOneField(
        AsyncActionReport, null=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # {account name: invoices stored}, written by the chord's body once every account is done.
    invoice_counts = models.JSONField(default=dict, blank=True)
    summarized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Sync all accounts / report {self.report_id}"

    @property
    def invoice_total(self) -> int:
        return sum(self.invoice_counts.values())
