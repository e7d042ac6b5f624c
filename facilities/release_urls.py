"""The public overlock-release page, mounted at /release/."""

from django.urls import path

from facilities import release

app_name = "release"

urlpatterns = [
    path("<slug:account_slug>/", release.release_page, name="page"),
    path("<slug:account_slug>/requested/", release.release_requested, name="requested"),
]
