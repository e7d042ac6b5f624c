from django.urls import path

from facilities import release, views

app_name = "facilities"

urlpatterns = [
    path("", views.facility_list, name="facility_list"),
    path("release-activity/", release.release_activity, name="release_activity"),
]
