"""The JSON lookup API for call centers, mounted at /api/. Documented at /api/docs/."""

from django.urls import path, re_path

from integrations.api import views

app_name = "api"

urlpatterns = [
    path("v1/facilities/", views.facility_list, name="facility_list"),
    path("v1/facilities/<str:facility_id>/", views.facility_detail, name="facility_detail"),
    path("v1/facilities/<str:facility_id>/units/", views.unit_list, name="unit_list"),
    path(
        "v1/facilities/<str:facility_id>/units/<str:unit_number>/",
        views.unit_detail,
        name="unit_detail",
    ),
    path(
        "v1/facilities/<str:facility_id>/units/<str:unit_number>/events/",
        views.unit_event_create,
        name="unit_event_create",
    ),
    path(
        "v1/facilities/<str:facility_id>/locks/<str:serial>/",
        views.lock_detail,
        name="lock_detail",
    ),
    path("v1/events/", views.event_list, name="event_list"),
    path(
        "v1/facilities/<str:facility_id>/units/<str:unit_number>/release/",
        views.unit_release,
        name="unit_release",
    ),
    path(
        "v1/facilities/<str:facility_id>/locks/<str:serial>/status/",
        views.lock_status,
        name="lock_status",
    ),
    path("v1/openapi.json", views.openapi_json, name="openapi"),
    path("docs/", views.docs, name="docs"),
]

# Last: anything else under /api/ is a JSON 404, never Django's HTML page.
urlpatterns.append(re_path(r"^(?P<path>.*)$", views.not_found, name="not_found"))
