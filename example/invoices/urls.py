from django.urls import path

from example.invoices import views

urlpatterns = [
    path("accounts/<int:account_id>/sync/", views.sync_now, name="invoices-sync"),
    path("accounts/sync/", views.sync_all, name="invoices-sync-all"),
]
