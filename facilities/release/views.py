"""The public overlock-release page (/release/<account-slug>/) and its activity list in the
portal. The rules live in facilities/release/services.py."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from davinci import sms
from davinci.accounts.decorators import account_required
from davinci.accounts.models import MANAGES_INTEGRATIONS, Account
from davinci.net import client_ip
from davinci.outbox.after_response import RedirectThenDispatch
from facilities.forms import TypedChoiceField
from facilities.models import Facility, ReleaseAttempt, unit_number_validator
from facilities.release.services import (
    Contact,
    contact_parse,
    release_attempt_record,
    release_code_send,
)

ATTEMPTS_PER_PAGE = 50


class ReleaseForm(forms.Form):
    facility = TypedChoiceField(
        queryset=Facility.objects.none(),
        to_field_name="facility_id",
        empty_label="Choose your facility",
        error_messages={
            "required": "Choose the facility where your unit is.",
            "invalid_choice": "Choose one of the listed facilities.",
        },
    )
    unit_number = forms.CharField(
        label="Unit number",
        max_length=20,
        validators=[unit_number_validator],
        error_messages={"required": "Enter your unit number."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    contact = forms.CharField(
        label="Email address or phone number on file",
        max_length=254,
        error_messages={"required": "Enter the email address or phone number on file."},
        widget=forms.TextInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    # Honeypot: hidden from people and assistive technology; bots fill every field.
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, account: Account, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["facility"]
        # Any of the account's facilities validates, so a forged POST naming an excluded one
        # is refused like a wrong contact (not by a tell-tale form error); only facilities
        # included in the API are offered.
        field.queryset = Facility.objects.for_account(account)
        field.choices = [
            ("", field.empty_label),
            *(
                (facility.facility_id, _facility_label(facility))
                for facility in Facility.objects.for_account(account).included_in_api()
            ),
        ]
        if not sms.sms_enabled():
            self.fields["contact"].label = "Email address on file"

    def clean_contact(self) -> Contact:
        return contact_parse(self.cleaned_data["contact"])


def _facility_label(facility: Facility) -> str:
    return f"{facility.name} — {facility.address}" if facility.address else facility.name


@login_not_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def release_page(request: HttpRequest, account_slug: str) -> HttpResponse:
    account = get_object_or_404(Account, slug=account_slug)
    form = ReleaseForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        contact = form.cleaned_data["contact"]
        attempt = release_attempt_record(
            account=account,
            facility=form.cleaned_data["facility"],
            unit_number=form.cleaned_data["unit_number"],
            contact=contact,
            ip=client_ip(request),
            honeypot_filled=bool(form.cleaned_data["website"]),
        )
        if attempt.outcome != ReleaseAttempt.Outcome.RATE_LIMITED:
            notice = release_code_send.queue(attempt_id=attempt.pk, dispatch=False)
            done = reverse("release:requested", args=[account.slug])
            # Every accepted attempt queued the same notice (the task decides whether a code
            # is due), handed on once the redirect is out and, in-process, off this thread:
            # neither the answer, its timing nor the connection tells whether one was sent.
            return RedirectThenDispatch(
                f"{done}?{urlencode({'by': contact.channel})}", notice=notice
            )
        return _too_many_attempts(request, account, form)
    return render(request, "release/release_page.html", _context(account, form))


def _too_many_attempts(request: HttpRequest, account: Account, form: ReleaseForm) -> HttpResponse:
    window = settings.RELEASE_RATE_LIMIT_WINDOW
    form.add_error(
        None,
        f"Too many attempts. Please wait {_in_words(window)} before trying again, "
        "or call your facility.",
    )
    response = render(request, "release/release_page.html", _context(account, form), status=429)
    response["Retry-After"] = str(window)
    return response


def _in_words(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    if minutes % 60 == 0:
        return "an hour" if minutes == 60 else f"{minutes // 60} hours"
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def _context(account: Account, form: ReleaseForm) -> dict:
    return {
        "account": account,
        "form": form,
        "has_facilities": len(form.fields["facility"].choices) > 1,
        "sms_enabled": sms.sms_enabled(),
    }


@login_not_required
@never_cache
@require_safe
def release_requested(request: HttpRequest, account_slug: str) -> HttpResponse:
    account = get_object_or_404(Account, slug=account_slug)
    by_sms = request.GET.get("by") == ReleaseAttempt.Channel.SMS
    return render(request, "release/requested.html", {"account": account, "by_sms": by_sms})


@account_required(*MANAGES_INTEGRATIONS)
@require_safe
def release_activity(request: HttpRequest) -> HttpResponse:
    attempts = (
        ReleaseAttempt.objects.for_membership(request.membership)
        .select_related("facility", "unit", "lock")
        .order_by("-created_at", "-id")
    )
    page = Paginator(attempts, ATTEMPTS_PER_PAGE).get_page(request.GET.get("page"))
    public_url = request.build_absolute_uri(reverse("release:page", args=[request.account.slug]))
    return render(request, "release/activity.html", {"page": page, "public_url": public_url})
