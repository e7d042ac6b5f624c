from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError

from davinci.accounts import throttle
from davinci.accounts.password_reset import password_reset_limited, password_reset_send
from davinci.accounts.services import sign_in_throttled_record
from davinci.net import client_ip


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "That email and password do not match an account. Check both and try again."
        ),
        "throttled": (
            "Too many failed sign-ins for this address or from your network. "
            "Try again in %(minutes)s minute(s), or reset your password."
        ),
    }

    def clean(self) -> dict:
        email = self.cleaned_data.get("username") or ""
        ip = client_ip(self.request) if self.request else ""
        attempt = throttle.sign_in_attempt(email=email, ip=ip)
        if attempt.retry_after:
            raise ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": -(-attempt.retry_after // 60)},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            if attempt.reaching:
                sign_in_throttled_record(email=email, ip=ip, limits=list(attempt.reaching))
            raise
        attempt.succeeded()
        return cleaned


class PasswordResetRequestForm(PasswordResetForm):
    """Django's form, rate-limited, its email sent by a task (davinci/accounts/password_reset)."""

    def __init__(self, *args, request=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self) -> dict:
        cleaned = super().clean()
        email = cleaned.get("email")
        ip = client_ip(self.request) if self.request else ""
        if email and password_reset_limited(email=email, ip=ip):
            raise ValidationError(
                "Too many password reset requests for this address or from your network. "
                "Check your inbox (and spam folder) for the emails already sent, or try again "
                "in an hour.",
                code="throttled",
            )
        return cleaned

    def save(self, *, domain_override=None, use_https=False, request=None, **kwargs) -> None:
        domain = domain_override or (request.get_host() if request else "localhost")
        for user in self.get_users(self.cleaned_data["email"]):
            password_reset_send.queue(user_id=user.pk, domain=domain, use_https=use_https)


class SwitchAccountForm(forms.Form):
    account = forms.IntegerField(min_value=1, max_value=2**63 - 1)
