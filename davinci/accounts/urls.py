from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path, reverse_lazy

from davinci.accounts import views
from davinci.accounts.two_factor import views as two_factor

app_name = "accounts"

urlpatterns = [
    path("sign-in/", login_not_required(views.SignInView.as_view()), name="login"),
    path("sign-in/two-factor/", two_factor.sign_in_second_step, name="sign_in_second_step"),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("switch/", views.switch_account, name="switch_account"),
    # Your account
    path("you/", views.your_account, name="your_account"),
    path("you/email/", views.email_change, name="email_change"),
    path("you/email/<str:token>/", views.email_confirm, name="email_confirm"),
    path("you/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("you/sessions/", views.sessions_end_others, name="sessions_end_others"),
    # Your account → Two-factor authentication
    path("you/two-factor/", two_factor.two_factor, name="two_factor"),
    path("you/two-factor/set-up/", two_factor.two_factor_setup, name="two_factor_setup"),
    path(
        "you/two-factor/recovery-codes/",
        two_factor.recovery_codes_regenerate,
        name="recovery_codes_regenerate",
    ),
    path("you/two-factor/off/", two_factor.two_factor_disable, name="two_factor_disable"),
    path("you/two-factor/passkeys/new/", two_factor.passkey_add, name="passkey_add"),
    path("you/two-factor/passkeys/<id:pk>/name/", two_factor.passkey_rename, name="passkey_rename"),
    path(
        "you/two-factor/passkeys/<id:pk>/remove/", two_factor.passkey_remove, name="passkey_remove"
    ),
    path("you/time-zone/", views.account_time_zone, name="account_time_zone"),
    # Invitations to accounts, answered by the person invited
    path("you/invitations/", views.invitations, name="invitations"),
    path("you/invitations/<id:pk>/accept/", views.invitation_accept, name="invitation_accept"),
    path("you/invitations/<id:pk>/decline/", views.invitation_decline, name="invitation_decline"),
    path(
        "you/history-retention/",
        views.account_history_retention,
        name="account_history_retention",
    ),
    path(
        "password-reset/",
        views.PasswordResetView.as_view(
            template_name="accounts/password_reset_form.html",
            success_url=reverse_lazy("accounts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
