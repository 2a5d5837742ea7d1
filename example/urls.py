from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from example import views
from example.basics import views as basics_views

urlpatterns = [
    # The demo opens on the library's dashboard; its scenarios are one click away (/demo/).
    path("", RedirectView.as_view(pattern_name="async_actions:list"), name="root"),
    path("actions/", include("async_actions.urls")),
    path("demo/", views.home, name="home"),
    path("reports/<int:report_id>.json", views.report_status, name="report-status"),
    path("basics/succeed/", basics_views.start_greeting, name="basics-succeed"),
    path("basics/fail/", basics_views.start_division_by_zero, name="basics-fail"),
    path("basics/django-task/", basics_views.start_word_count, name="basics-django-task"),
    path("invoices/", include("example.invoices.urls")),
    path("admin/", admin.site.urls),
]
