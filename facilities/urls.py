from django.urls import path

from facilities import import_views, lock_views, release, views

app_name = "facilities"

urlpatterns = [
    path("", views.facility_list, name="facility_list"),
    path("new/", views.facility_create, name="facility_create"),
    path("search/", views.search, name="search"),
    path("<id:pk>/", views.facility_detail, name="facility_detail"),
    path("<id:pk>/edit/", views.facility_edit, name="facility_edit"),
    path("<id:pk>/locks/", views.facility_locks, name="facility_locks"),
    path("<id:pk>/units/new/", views.unit_create, name="unit_create"),
    path("<id:pk>/locks/new/", lock_views.lock_create, name="lock_create"),
    path("<id:pk>/import/", import_views.facility_import, name="facility_import"),
    path(
        "<id:pk>/import/commit/",
        import_views.facility_import_commit,
        name="facility_import_commit",
    ),
    path("<id:pk>/export.csv", import_views.facility_export, name="facility_export"),
    path("units/<id:pk>/", views.unit_detail, name="unit_detail"),
    path("units/<id:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("units/<id:pk>/assign/", lock_views.unit_assign_lock, name="unit_assign_lock"),
    path("locks/<id:pk>/", lock_views.lock_detail, name="lock_detail"),
    path("locks/<id:pk>/reveal/", lock_views.lock_reveal, name="lock_reveal"),
    path("locks/<id:pk>/status/", lock_views.lock_status, name="lock_status"),
    path("locks/<id:pk>/assign/", lock_views.lock_assign, name="lock_assign"),
    path("locks/<id:pk>/unassign/", lock_views.lock_unassign, name="lock_unassign"),
    path("locks/<id:pk>/code/", lock_views.lock_code, name="lock_code"),
    path("locks/<id:pk>/release/", lock_views.lock_release, name="lock_release"),
    path(
        "locks/<id:pk>/notify-new-tenant/",
        lock_views.lock_notify_new_tenant,
        name="lock_notify_new_tenant",
    ),
    path("release-activity/", release.release_activity, name="release_activity"),
]
