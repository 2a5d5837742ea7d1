from django.contrib import admin
from django.urls import include, path

from example import views
from example.basics import views as basics_views

urlpatterns = [
    path("", views.home, name="home"),
    path("reports/<int:report_id>.json", views.report_status, name="report-status"),
    path("basics/succeed/", basics_views.start_greeting, name="basics-succeed"),
    path("basics/fail/", basics_views.start_division_by_zero, name="basics-fail"),
    path("basics/django-task/", basics_views.start_word_count, name="basics-django-task"),
    path("invoices/", include("example.invoices.urls")),
    path("admin/", admin.site.urls),
]
