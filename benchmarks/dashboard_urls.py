from django.urls import include, path

urlpatterns = [path("actions/", include("async_actions.urls"))]
