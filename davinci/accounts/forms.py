from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from davinci.accounts import throttle
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


class SwitchAccountForm(forms.Form):
    account = forms.IntegerField(min_value=1, max_value=2**63 - 1)
