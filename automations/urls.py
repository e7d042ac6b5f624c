from django.urls import path

from automations import views

app_name = "automations"

urlpatterns = [
    path("", views.rule_list, name="rule_list"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<id:pk>/", views.rule_edit, name="rule_edit"),
    path("rules/<id:pk>/enabled/", views.rule_enable, name="rule_enable"),
    path("rules/<id:pk>/move/", views.rule_move, name="rule_move"),
    path("rules/<id:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("activity/", views.activity, name="activity"),
    path("payments/", views.payments_upload, name="payments_upload"),
    path("payments/apply/", views.payments_apply, name="payments_apply"),
]
