from django.urls import path

from facilities.release import views as release
from facilities.views import archives, facilities, imports, locks, picker, units

app_name = "facilities"

urlpatterns = [
    path("", facilities.facility_list, name="facility_list"),
    path("new/", facilities.facility_create, name="facility_create"),
    path("search/", units.search, name="search"),
    path("picker/", picker.facility_picker, name="facility_picker"),
    path("<id:pk>/", facilities.facility_detail, name="facility_detail"),
    path("<id:pk>/edit/", facilities.facility_edit, name="facility_edit"),
    path("<id:pk>/locks/", facilities.facility_locks, name="facility_locks"),
    path("<id:pk>/units/new/", units.unit_create, name="unit_create"),
    path("<id:pk>/locks/new/", locks.lock_create, name="lock_create"),
    path("<id:pk>/import/", imports.facility_import, name="facility_import"),
    path(
        "<id:pk>/import/commit/",
        imports.facility_import_commit,
        name="facility_import_commit",
    ),
    path("<id:pk>/export.csv", imports.facility_export, name="facility_export"),
    path("units/<id:pk>/", units.unit_detail, name="unit_detail"),
    path("units/<id:pk>/edit/", units.unit_edit, name="unit_edit"),
    path("units/<id:pk>/assign/", locks.unit_assign_lock, name="unit_assign_lock"),
    path("locks/<id:pk>/", locks.lock_detail, name="lock_detail"),
    path("locks/<id:pk>/reveal/", locks.lock_reveal, name="lock_reveal"),
    path("locks/<id:pk>/status/", locks.lock_status, name="lock_status"),
    path("locks/<id:pk>/assign/", locks.lock_assign, name="lock_assign"),
    path("locks/<id:pk>/unassign/", locks.lock_unassign, name="lock_unassign"),
    path("locks/<id:pk>/code/", locks.lock_code, name="lock_code"),
    path("locks/<id:pk>/release/", locks.lock_release, name="lock_release"),
    path(
        "locks/<id:pk>/notify-new-tenant/",
        locks.lock_notify_new_tenant,
        name="lock_notify_new_tenant",
    ),
    path("release-activity/", release.release_activity, name="release_activity"),
    path("history-archives/", archives.history_archive_list, name="history_archive_list"),
    path(
        "history-archives/<id:pk>/download/",
        archives.history_archive_download,
        name="history_archive_download",
    ),
]
