from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError

from davinci.accounts import throttle
from davinci.accounts.middleware import only_inactive_memberships
from davinci.accounts.password_reset import password_reset_limited, password_reset_send
from davinci.accounts.services import sign_in_throttled_record
from davinci.net import client_ip
from davinci.when import time_zone_names


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
        "inactive_member": (
            "Your access to this account was turned off. Ask its owner if you need it back."
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

    def confirm_login_allowed(self, user) -> None:
        """Only after the password matched: a member set Inactive everywhere is refused (an
        unknown address or a wrong password never learns this)."""
        super().confirm_login_allowed(user)
        if only_inactive_memberships(user):
            raise ValidationError(self.error_messages["inactive_member"], code="inactive_member")


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


class ProfileForm(forms.Form):
    """Your account: the name shown to the team and in the history."""

    name = forms.CharField(label="Name", max_length=150)


class AccountTimeZoneForm(forms.Form):
    """Your account, for Owners and Client Admins: the account's time zone, in which every
    time of the portal and its emails is shown."""

    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=lambda: [(name, name.replace("_", " ")) for name in time_zone_names()],
        help_text="Every time in the portal and its emails is shown in this zone, for "
        "everyone in the account.",
    )


class EmailChangeForm(forms.Form):
    """Your account: a new email, confirmed by a link sent to it. The password is asked so a
    session left open cannot move the account to another address."""

    email = forms.EmailField(
        label="New email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": "Enter an email address such as name@example.com."},
    )
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password to change your email."},
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if email == self.user.email:
            raise ValidationError("This is your email already.", code="unchanged")
        return email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError("That is not your password.", code="wrong_password")
        return password
