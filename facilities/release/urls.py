"""The public overlock-release page, mounted at /release/."""

from django.urls import path

from facilities.release import views

app_name = "release"

urlpatterns = [
    path("<slug:account_slug>/", views.release_page, name="page"),
    path("<slug:account_slug>/requested/", views.release_requested, name="requested"),
    path(
        "<slug:account_slug>/facilities/",
        views.release_facility_search,
        name="facility_search",
    ),
]
