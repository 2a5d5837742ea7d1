from django.contrib import admin

from example.invoices.models import Account, Invoice, InvoiceSync


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "external_id", "last_synced_at")


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ("number", "account", "customer", "amount", "currency", "issued_on", "status")
    list_filter = ("account", "status", "currency")
    search_fields = ("number", "external_id", "customer")


@admin.register(InvoiceSync)
class InvoiceSyncAdmin(admin.ModelAdmin):
    list_display = ("id", "account", "report")
    list_select_related = ("account", "report")
