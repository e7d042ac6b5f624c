"""Every email and text message the product sends: one function each, and the one place that
hands them to Django's mail backend or to the SMS backend (davinci/sms.py).

An email `name` is two templates, templates/emails/<name>_subject.txt and
templates/emails/<name>.txt; a text message is templates/sms/<name>.txt. The functions below
render them with the context they are given and send; they raise when the backend refuses,
so that the outbox retries.

They are called only while an outbox sender runs (a function registered with
`davinci.outbox.tasks.notice`, which reads the rows its notice names and builds the
context), so every email and text message is a Notice: written with the change that wants
it, sent after it commits, retried, never lost. Called from anywhere else, they raise. No
other module of the product sends mail (tests/core/test_one_email_path.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from davinci import sms
from davinci.outbox.tasks import sending

Context = Mapping[str, object]


def _check_sending(name: str) -> None:
    if sending() is None:
        raise RuntimeError(
            f"The {name!r} message is sent by an outbox sender (davinci.outbox.tasks.notice), "
            "never directly."
        )


def email_render(name: str, context: Context) -> tuple[str, str]:
    """The subject (one line whatever a name in it holds: a newline would be refused as a
    header) and the body of the email `name`."""
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    return subject, render_to_string(f"emails/{name}.txt", context)


def _email(name: str, *, to: str | Sequence[str], context: Context) -> None:
    _check_sending(name)
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        return
    subject, body = email_render(name, context)
    EmailMessage(subject=subject, body=body, to=recipients).send()


def _text(name: str, *, to: str, context: Context) -> None:
    _check_sending(name)
    sms.send_sms(to=to, body=render_to_string(f"sms/{name}.txt", context).strip())


# --- Your account (davinci/accounts/notices.py) ----------------------------------------------


def account_email_change(*, to: str, context: Context) -> None:
    """To the new address a user typed: the link that confirms it (url, days)."""
    _email("account_email_change", to=to, context=context)


def account_email_taken(*, to: str, context: Context) -> None:
    """To an address that already has a user, instead of the link: the attempt, nothing more."""
    _email("account_email_taken", to=to, context=context)


def account_email_changed(*, to: str, context: Context) -> None:
    """To the old address, once the change is done (new_email)."""
    _email("account_email_changed", to=to, context=context)


def password_reset(*, to: str, context: Context) -> None:
    """The reset link (davinci/accounts/password_reset.py): Django's context for it."""
    _email("password_reset", to=to, context=context)


# --- Two-factor, to the user whose sign-in changed (davinci/accounts/two_factor/notices.py) ---


def two_factor_enabled(*, to: str, context: Context) -> None:
    _email("two_factor_enabled", to=to, context=context)


def two_factor_disabled(*, to: str, context: Context) -> None:
    _email("two_factor_disabled", to=to, context=context)


def two_factor_reset(*, to: str, context: Context) -> None:
    """Reset by Team or platform staff (who)."""
    _email("two_factor_reset", to=to, context=context)


def recovery_code_used(*, to: str, context: Context) -> None:
    """A recovery code signed in (left: how many are left)."""
    _email("recovery_code_used", to=to, context=context)


def passkey_added(*, to: str, context: Context) -> None:
    _email("passkey_added", to=to, context=context)


# --- Team (team/notices.py) ------------------------------------------------------------------


def team_invitation(*, to: str, context: Context) -> None:
    """To a new user: the one-time link that sets their password and accepts (membership,
    account, who, url, timeout_days)."""
    _email("team_invitation", to=to, context=context)


def team_invitation_to_accept(*, to: str, context: Context) -> None:
    """To a user with a password: the link to their invitations (membership, account, who,
    url, expires)."""
    _email("team_invitation_to_accept", to=to, context=context)


def team_member_changed(*, to: Sequence[str], context: Context) -> None:
    """To the account's owner: a user invited or a role changed (who, what, person,
    membership, account, ip)."""
    _email("team_member_changed", to=to, context=context)


# --- Integrations (integrations/notices.py, integrations/reminders.py) -----------------------


def api_key_event(*, to: Sequence[str], context: Context) -> None:
    """To the account's owners: a key created, revealed, rolled or re-enabled (action, key,
    account, who, when, ip). Never the secret."""
    _email("api_key_event", to=to, context=context)


def api_key_expiry(*, to: Sequence[str], context: Context) -> None:
    """To owners and admins: a key expires soon or has expired (key, account, when,
    portal_url)."""
    _email("api_key_expiry", to=to, context=context)


# --- Webhooks (webhooks/notices.py) ---------------------------------------------------------


def webhook_endpoint_disabled(*, to: Sequence[str], context: Context) -> None:
    """To the account's owners: an endpoint disabled after 3 days of failed deliveries
    (endpoint, account, failing_since, last_answer, portal_url). Never its secret."""
    _email("webhook_endpoint_disabled", to=to, context=context)


# --- Tenants: the code of the lock on their unit (facilities/) -------------------------------
# Context: account, facility, unit, unlock_code.


def release_code(*, to: str, context: Context) -> None:
    """Asked for on the overlock-release page (facilities/release/services.py)."""
    _email("release_code", to=to, context=context)


def release_code_text(*, to: str, context: Context) -> None:
    _text("release_code", to=to, context=context)


def delinquency_paid(*, to: str, context: Context) -> None:
    """Sent from the portal once the overlock is released (facilities/notices.py)."""
    _email("delinquency_paid", to=to, context=context)


def delinquency_paid_text(*, to: str, context: Context) -> None:
    _text("delinquency_paid", to=to, context=context)


def new_rental(*, to: str, context: Context) -> None:
    """Sent from the portal for a vacant unit just rented (facilities/notices.py)."""
    _email("new_rental", to=to, context=context)


def new_rental_text(*, to: str, context: Context) -> None:
    _text("new_rental", to=to, context=context)
