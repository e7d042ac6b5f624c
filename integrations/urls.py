from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    # "API Settings" tab
    path("", views.api_settings, name="api_settings"),
    path("keys/new/", views.api_key_create, name="api_key_create"),
    path("keys/<id:pk>/", views.api_key_detail, name="api_key_detail"),
    path("keys/<id:pk>/reveal/", views.api_key_reveal, name="api_key_reveal"),
    path("keys/<id:pk>/disable/", views.api_key_disable, name="api_key_disable"),
    path("keys/<id:pk>/enable/", views.api_key_enable, name="api_key_enable"),
    path("keys/<id:pk>/roll/", views.api_key_roll, name="api_key_roll"),
    path("keys/<id:pk>/delete/", views.api_key_delete, name="api_key_delete"),
    # "Facilities" tab
    path("facilities/", views.facility_list, name="facility_list"),
    path(
        "facilities/<slug:facility_id>/include/",
        views.facility_include,
        name="facility_include",
    ),
    # "Activity" tab
    path("activity/", views.activity, name="activity"),
]
