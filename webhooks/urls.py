from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="endpoint_list"),
    path("new/", views.endpoint_create, name="endpoint_create"),
    path("<id:pk>/", views.endpoint_detail, name="endpoint_detail"),
    path("<id:pk>/reveal/", views.endpoint_reveal, name="endpoint_reveal"),
    path("<id:pk>/roll/", views.endpoint_roll, name="endpoint_roll"),
    path("<id:pk>/disable/", views.endpoint_disable, name="endpoint_disable"),
    path("<id:pk>/enable/", views.endpoint_enable, name="endpoint_enable"),
    path("<id:pk>/delete/", views.endpoint_delete, name="endpoint_delete"),
    path("<id:pk>/test/", views.endpoint_test, name="endpoint_test"),
    path("<id:pk>/deliveries/", views.endpoint_log, name="endpoint_log"),
    path("<id:pk>/deliveries/resend/", views.endpoint_resend, name="endpoint_resend"),
]
