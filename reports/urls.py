from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.lock_usage, name="lock_usage"),
    path("overlocks/", views.overlocks_by_age, name="overlocks_by_age"),
    path("remove-overlock-queue/", views.remove_overlock_queue, name="remove_overlock_queue"),
    path("code-disclosures/", views.code_disclosures, name="code_disclosures"),
    path("audit-export/", views.audit_export, name="audit_export"),
]
