from django.urls import path

from team import views

app_name = "team"

urlpatterns = [
    path("", views.member_list, name="member_list"),
    path("new/", views.member_add, name="member_add"),
    path("<id:pk>/", views.member_edit, name="member_edit"),
    path("<id:pk>/invite/", views.member_invite_again, name="member_invite_again"),
    path("<id:pk>/withdraw/", views.member_invitation_withdraw, name="member_invitation_withdraw"),
    path("<id:pk>/ownership/", views.ownership_transfer, name="ownership_transfer"),
    path(
        "<id:pk>/two-factor/reset/", views.member_two_factor_reset, name="member_two_factor_reset"
    ),
    path("two-factor-policy/", views.two_factor_policy, name="two_factor_policy"),
    path(
        "invitation/<id:membership>/<uidb64>/<token>/",
        views.invitation_accept,
        name="invitation_accept",
    ),
]
