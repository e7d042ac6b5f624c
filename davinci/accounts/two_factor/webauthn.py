"""Passkeys through django-otp-webauthn's ceremonies (its JSON views and its JavaScript, served
from static/), narrowed to what two-factor here means:

- registering needs a signed-in user with the authenticator app on (a passkey is a second
  way in, never the only factor) and is recorded (audit, email);
- authenticating is the sign-in's second step: only the user who just gave their password,
  and only with their own passkeys; never a sign-in without the password.

The URL names stay the library's (namespace otp_webauthn), which its template tags reverse.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from django.utils.decorators import method_decorator
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import exceptions, views
from django_otp_webauthn.models import WebAuthnCredential

from davinci.accounts.decorators import confirmation_recent
from davinci.accounts.two_factor import services
from davinci.accounts.two_factor.sign_in import pending_user, sign_in_complete
from davinci.net import client_ip


class TwoFactorRequired(exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_code = "two_factor_required"
    default_detail = "Set up an authenticator app first: a passkey is added beside it."


class ConfirmationRequired(exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_code = "confirmation_required"
    default_detail = "Confirm it is you first (Your account → Two-factor → Add a passkey)."


class _RegistrationRules:
    """Adding a passkey changes two-factor: the app must be on and the user must have
    confirmed it is them lately (@recently_confirmed's rule)."""

    def check_can_register(self) -> None:
        if not services.has_two_factor(self.request.user):
            raise TwoFactorRequired()
        if not confirmation_recent(self.request):
            raise ConfirmationRequired()


class PasskeyRegistrationBegin(_RegistrationRules, views.BeginCredentialRegistrationView):
    pass


class PasskeyRegistrationComplete(_RegistrationRules, views.CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        if response.status_code == 200:
            credential = WebAuthnCredential.objects.get(
                pk=json.loads(response.content)["id"], user=self.request.user
            )
            services.passkey_added(
                user=self.request.user, credential=credential, ip=client_ip(self.request)
            )
        return response


class _PendingUserMixin:
    """The user is the one halfway through signing in (anonymous until the passkey checks
    out); nobody else's passkeys are offered or accepted."""

    def get_user(self):
        return pending_user(self.request)

    def check_can_authenticate(self) -> None:
        if self.get_user() is None:
            raise exceptions.NotAuthenticated()


@method_decorator(login_not_required, name="dispatch")
class PasskeySignInBegin(_PendingUserMixin, views.BeginCredentialAuthenticationView):
    pass


@method_decorator(login_not_required, name="dispatch")
class PasskeySignInComplete(_PendingUserMixin, views.CompleteCredentialAuthenticationView):
    def complete_auth(self, device: WebAuthnCredential) -> None:
        # The pending user (the library checked the passkey is theirs), with the backend
        # that accepted their password.
        user = self.get_user()
        self._next = sign_in_complete(request=self.request, user=user, device=device)

    def get_success_url(self) -> str:
        return self._next


app_name = "otp_webauthn"

urlpatterns = [
    path(
        "registration/begin/",
        PasskeyRegistrationBegin.as_view(),
        name="credential-registration-begin",
    ),
    path(
        "registration/complete/",
        PasskeyRegistrationComplete.as_view(),
        name="credential-registration-complete",
    ),
    path(
        "authentication/begin/",
        PasskeySignInBegin.as_view(),
        name="credential-authentication-begin",
    ),
    path(
        "authentication/complete/",
        PasskeySignInComplete.as_view(),
        name="credential-authentication-complete",
    ),
    path(
        "jsi18n/",
        login_not_required(JavaScriptCatalog.as_view(packages=["django_otp_webauthn"])),
        name="js-i18n-catalog",
    ),
]
