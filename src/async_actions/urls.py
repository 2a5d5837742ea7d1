"""Mount with ``path("actions/", include("async_actions.urls"))``."""

from __future__ import annotations

from django.urls import path

from async_actions import views

app_name = "async_actions"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("api/", views.api_list, name="api-list"),
    path("api/<uuid:public_id>/", views.api_detail, name="api-detail"),
    path("<uuid:public_id>/", views.report_detail, name="detail"),
    path("<uuid:public_id>/retry/", views.report_retry, name="retry"),
    path("<uuid:public_id>/cancel/", views.report_cancel, name="cancel"),
]
