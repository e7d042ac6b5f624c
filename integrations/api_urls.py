"""The JSON lookup API for call centers, mounted at /api/. Documented at /api/docs/."""

from django.urls import path, re_path

from integrations import api

app_name = "api"

urlpatterns = [
    path("v1/facilities/", api.facility_list, name="facility_list"),
    path("v1/facilities/<str:facility_id>/", api.facility_detail, name="facility_detail"),
    path("v1/facilities/<str:facility_id>/units/", api.unit_list, name="unit_list"),
    path(
        "v1/facilities/<str:facility_id>/units/<str:unit_number>/",
        api.unit_detail,
        name="unit_detail",
    ),
    path(
        "v1/facilities/<str:facility_id>/locks/<str:serial>/",
        api.lock_detail,
        name="lock_detail",
    ),
    path("v1/openapi.json", api.openapi_json, name="openapi"),
    path("docs/", api.docs, name="docs"),
]

# Last: anything else under /api/ is a JSON 404, never Django's HTML page.
urlpatterns.append(re_path(r"^(?P<path>.*)$", api.not_found, name="not_found"))
