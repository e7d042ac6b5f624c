from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

from davinci import counters
from davinci.accounts import throttle
from davinci.accounts.middleware import only_inactive_memberships
from davinci.accounts.models import HISTORY_RETENTION_MAX_MONTHS, HISTORY_RETENTION_MIN_MONTHS
from davinci.accounts.password_reset import password_reset_limited, password_reset_send
from davinci.accounts.services import sign_in_throttled_record
from davinci.accounts.two_factor.services import has_two_factor, second_factor_verify
from davinci.net import client_ip
from davinci.outbox.models import Notice
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

    def save(self, *, domain_override=None, use_https=False, request=None, **kwargs) -> Notice:
        """Queue one notice whatever the address: the user's id, or 0 when no user may reset
        (the task then sends nothing). It is handed on after the answer (the view's
        RedirectThenDispatch), so a known address costs the request what an unknown one does."""
        domain = domain_override or (request.get_host() if request else "localhost")
        user = next(iter(self.get_users(self.cleaned_data["email"])), None)
        return password_reset_send.queue(
            user_id=user.pk if user else 0, domain=domain, use_https=use_https, dispatch=False
        )


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


class HistoryRetentionForm(forms.Form):
    """Your account, for the Owner: how long the account's history stays in the portal."""

    history_retention_months = forms.IntegerField(
        label="Keep history for (months)",
        min_value=HISTORY_RETENTION_MIN_MONTHS,
        max_value=HISTORY_RETENTION_MAX_MONTHS,
        help_text="Lock history and the Activity log older than this are archived once a day "
        "(History archives, for you to download) and then removed from the portal. "
        f"At least {HISTORY_RETENTION_MIN_MONTHS} months.",
        error_messages={
            "required": "Enter a number of months, e.g. 24.",
            "invalid": "Enter a whole number of months, e.g. 24.",
            "min_value": f"Keep history for at least {HISTORY_RETENTION_MIN_MONTHS} months.",
            "max_value": f"Keep history for at most {HISTORY_RETENTION_MAX_MONTHS} months.",
        },
    )


class EmailChangeForm(forms.Form):
    """Your account: a new email, confirmed by a link sent to it. The view is
    @recently_confirmed, so a session left open cannot move the account to another address."""

    email = forms.EmailField(
        label="New email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": "Enter an email address such as name@example.com."},
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if email == self.user.email:
            raise ValidationError("This is your email already.", code="unchanged")
        return email


class ConfirmItsYouForm(forms.Form):
    """Asked by @recently_confirmed: the password, or for a user with two-factor a code of
    their authenticator app (or a recovery code). Tries are counted before they are checked
    (a stolen session must not become a password oracle), five per 15 minutes."""

    FAILURES_ALLOWED = 5
    FAILURES_WINDOW = 15 * 60

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password to go on."},
    )
    code = forms.CharField(
        label="Code from your authenticator app, or a recovery code",
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"}
        ),
        error_messages={"required": "Enter a code from your authenticator app to go on."},
    )

    def __init__(self, *args, user, ip: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user, self.ip = user, ip
        self.uses_code = has_two_factor(user)
        del self.fields["password" if self.uses_code else "code"]

    @property
    def field_name(self) -> str:
        return "code" if self.uses_code else "password"

    def clean(self) -> dict:
        cleaned = super().clean()
        key = f"reconfirm-failures:{self.user.pk}"
        if counters.count(key, timeout=self.FAILURES_WINDOW) > self.FAILURES_ALLOWED:
            self.errors.pop(self.field_name, None)
            what = "codes" if self.uses_code else "passwords"
            raise ValidationError(
                f"Too many wrong {what}. Wait 15 minutes, then try again.", code="throttled"
            )
        value = cleaned.get(self.field_name)
        if value is None:
            return cleaned
        if self.uses_code:
            if second_factor_verify(user=self.user, token=value, ip=self.ip) is None:
                self.add_error(
                    "code", ValidationError("That code is not right.", code="wrong_code")
                )
                return cleaned
        elif not self.user.check_password(value):
            self.add_error(
                "password", ValidationError("That is not your password.", code="wrong_password")
            )
            return cleaned
        cache.delete(key)
        return cleaned
