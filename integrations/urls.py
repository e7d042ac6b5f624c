from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("", views.api_settings, name="api_settings"),
]
